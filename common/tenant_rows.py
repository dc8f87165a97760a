"""`TenantPublic` rows in memory, by tenant key and by slug, trusted only while their keeper hears
every change: the tenants service (its LISTEN) and the gateway (WatchTenantChanges) each keep one.

Fail closed: while not trusted the cache answers nothing and keeps nothing, and it starts empty
when trusted again. A fill is kept only if no change, and no change of trust, came between the
read it was made from and `put` (the generation), so a row a change dropped never comes back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from central.tenants.v1 import tenants_pb2

Key = TypeVar("Key", bound=Hashable)


class TenantRows(Generic[Key]):
    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._rows: OrderedDict[Key, tenants_pb2.TenantPublic] = OrderedDict()
        # The slug of every kept row, and only of kept rows: a row that goes takes its slug along.
        self._by_slug: dict[str, Key] = {}
        self._trusted = False
        self.generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def trusted(self) -> bool:
        return self._trusted

    def __len__(self) -> int:
        return len(self._rows)

    def trust(self) -> None:
        self._clear()
        self._trusted = True
        self.generation += 1

    def distrust(self) -> None:
        self._clear()
        self._trusted = False
        self.generation += 1

    def get(self, key: Key) -> tenants_pb2.TenantPublic | None:
        row = self._rows.get(key) if self._trusted else None
        if row is None:
            self.misses += 1
            return None
        self._rows.move_to_end(key)
        self.hits += 1
        return row

    def get_by_slug(self, slug: str) -> tenants_pb2.TenantPublic | None:
        key = self._by_slug.get(slug)
        if key is None:
            self.misses += 1
            return None
        return self.get(key)

    def put(self, key: Key, row: tenants_pb2.TenantPublic, generation: int) -> None:
        if not self._trusted or generation != self.generation:
            return
        self._drop(key)
        self._rows[key] = row
        self._by_slug[row.slug] = key
        while len(self._rows) > self.max_entries:
            self._drop(next(iter(self._rows)))

    def forget(self, key: Key) -> None:
        self.generation += 1
        self._drop(key)

    def forget_all(self) -> None:
        self.generation += 1
        self._clear()

    def _drop(self, key: Key) -> None:
        row = self._rows.pop(key, None)
        if row is not None and self._by_slug.get(row.slug) == key:
            del self._by_slug[row.slug]

    def _clear(self) -> None:
        self._rows.clear()
        self._by_slug.clear()
