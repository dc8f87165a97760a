"""`TenantPublic` rows in memory, by tenant key and by slug, trusted only while their keeper hears
every change: the tenants service (its LISTEN) and the gateway (WatchTenantChanges) each keep one.

Fail closed: while not trusted the cache answers nothing and keeps nothing, and it starts empty
when trusted again. A fill is kept only if no change, and no change of trust, came between the
read it was made from and `put` (the generation), so a row a change dropped never comes back.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from central.tenants.v1 import tenants_pb2
from common.fail_closed import FailClosedCache

Key = TypeVar("Key", bound=Hashable)


class TenantRows(FailClosedCache[Key, tenants_pb2.TenantPublic]):
    def __init__(self, max_entries: int) -> None:
        super().__init__(max_entries)
        # The slug of every kept row, and only of kept rows: a row that goes takes its slug along.
        self._by_slug: dict[str, Key] = {}

    def get_by_slug(self, slug: str) -> tenants_pb2.TenantPublic | None:
        key = self._by_slug.get(slug) if self.trusted else None
        if key is None:
            self.misses += 1
            return None
        return self.get(key)

    def _kept(self, key: Key, entry: tenants_pb2.TenantPublic) -> None:
        self._by_slug[entry.slug] = key

    def _dropped(self, key: Key, entry: tenants_pb2.TenantPublic) -> None:
        if self._by_slug.get(entry.slug) == key:
            del self._by_slug[entry.slug]
