"""`TenantPublic` rows in memory, so that GetTenant and GetTenantBySlug answer without suspending
on PostgreSQL.

Trusted only while this replica LISTENs to the tenants schema's changes: every write announces
its tenant with NOTIFY in its own transaction, and each replica (the writer too) drops that
tenant when it hears it. Without a live listener the cache answers nothing, and it starts empty
when the listener is back. Fills are read from the primary, never a lagging replica.
"""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID

from central.tenants.v1 import tenants_pb2
from common.db.executor import Executor

CHANNEL = "tenants_changes"


async def announce(executor: Executor, tenant_uuid: UUID) -> None:
    """Announce, inside the caller's transaction, that the tenant's row changed or went."""
    await executor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(tenant_uuid)))


class TenantRowCache:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._rows: OrderedDict[UUID, tenants_pb2.TenantPublic] = OrderedDict()
        # The slug of every kept row, and only of kept rows: a row that goes takes its slug along.
        self._by_slug: dict[str, UUID] = {}
        self._trusted = False
        # Moves on every change and change of trust: a fill that started before one is not kept.
        self.generation = 0

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

    def get(self, tenant_uuid: UUID) -> tenants_pb2.TenantPublic | None:
        row = self._rows.get(tenant_uuid) if self._trusted else None
        if row is not None:
            self._rows.move_to_end(tenant_uuid)
        return row

    def get_by_slug(self, slug: str) -> tenants_pb2.TenantPublic | None:
        tenant_uuid = self._by_slug.get(slug)
        return self.get(tenant_uuid) if tenant_uuid is not None else None

    def put(self, tenant_uuid: UUID, row: tenants_pb2.TenantPublic, generation: int) -> None:
        if not self._trusted or generation != self.generation:
            return
        self._drop(tenant_uuid)
        self._rows[tenant_uuid] = row
        self._by_slug[row.slug] = tenant_uuid
        while len(self._rows) > self.max_entries:
            self._drop(next(iter(self._rows)))

    def forget(self, tenant_uuid: UUID) -> None:
        self.generation += 1
        self._drop(tenant_uuid)

    def _drop(self, tenant_uuid: UUID) -> None:
        row = self._rows.pop(tenant_uuid, None)
        if row is not None and self._by_slug.get(row.slug) == tenant_uuid:
            del self._by_slug[row.slug]

    def _clear(self) -> None:
        self._rows.clear()
        self._by_slug.clear()

    def heard(self, payload: str) -> None:
        """A NOTIFY payload: the tenant it names, or, when unreadable, everything."""
        try:
            tenant_uuid = UUID(payload)
        except ValueError:
            self.generation += 1
            self._clear()
            return
        self.forget(tenant_uuid)
