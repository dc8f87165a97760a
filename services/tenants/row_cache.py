"""`TenantPublic` rows in memory (common/tenant_rows.py), so that GetTenant and GetTenantBySlug
answer without suspending on PostgreSQL, and the stream of tenant changes the gateways follow.

Trusted only while this replica LISTENs to the tenants schema's changes: every write announces
its tenant with NOTIFY in its own transaction, and each replica (the writer too) drops that
tenant when it hears it, and tells the gateways' WatchTenantChanges streams (common/db/change_hub.py).
Fills are read from the primary, never a lagging replica.
"""

from __future__ import annotations

from uuid import UUID

from central.tenants.v1 import tenants_pb2
from common.db.change_hub import ChangeHub
from common.db.executor import Executor
from common.tenant_rows import TenantRows
from services.tenants.ids import TenantIds

CHANNEL = "tenants_changes"


async def announce(executor: Executor, tenant_uuid: UUID) -> None:
    """Announce, inside the caller's transaction, that the tenant's row changed or went."""
    await executor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(tenant_uuid)))


def _announced(payload: str) -> UUID | None:
    try:
        return UUID(payload)
    except ValueError:
        return None


class TenantRowCache(TenantRows[UUID]):
    def heard(self, payload: str) -> None:
        """A NOTIFY payload: the tenant it names, or, when unreadable, everything."""
        tenant_uuid = _announced(payload)
        if tenant_uuid is None:
            self.forget_all()
        else:
            self.forget(tenant_uuid)


def to_change(payload: str) -> tenants_pb2.WatchTenantChangesResponse | None:
    tenant_uuid = _announced(payload)
    if tenant_uuid is None:
        return None
    return tenants_pb2.WatchTenantChangesResponse(tenant_id=TenantIds.to_rich_id(tenant_uuid))


class TenantChangeHub(ChangeHub[tenants_pb2.WatchTenantChangesResponse]):
    """The gateways' streams, and this replica's own row cache, on one LISTEN connection."""

    def __init__(self, database_url: str, rows: TenantRowCache) -> None:
        caught_up = tenants_pb2.WatchTenantChangesResponse(caught_up=True)
        super().__init__(database_url, CHANNEL, to_change, caught_up, "tenant changes", also=[rows])
