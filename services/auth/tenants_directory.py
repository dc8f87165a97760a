"""Whether a tenant exists, asked of its owner, the tenants service; auth never reads its schema."""

from __future__ import annotations

import grpc

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.grpc.calls import found


class TenantsDirectory:
    def __init__(self, channel: grpc.aio.Channel, deadline_seconds: float) -> None:
        # The channel signs every call as the system.
        self._stub = tenants_pb2_grpc.TenantsServiceStub(channel)
        self._deadline = deadline_seconds

    async def exists(self, tenant_id: str) -> bool:
        return await found(
            self._stub.GetTenant(tenants_pb2.GetTenantInput(tenant_id=tenant_id), timeout=self._deadline)
        )
