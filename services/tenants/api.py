"""The gRPC face of the tenants domain: protos in, one TenantService call, protos out.

Who may call each rpc is its proto's `central.api.v1.access`, enforced by the guard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from services.tenants.ids import TenantIds
from services.tenants.row_cache import TenantChangeHub
from services.tenants.service import TenantService

Context = grpc.aio.ServicerContext[Any, Any]


class TenantsApi(tenants_pb2_grpc.TenantsServiceServicer):
    def __init__(self, tenants: TenantService, changes: TenantChangeHub) -> None:
        self.tenants = tenants
        self.changes = changes

    async def CreateTenant(  # noqa: N802 - gRPC method names
        self, request: tenants_pb2.CreateTenantInput, context: Context
    ) -> tenants_pb2.CreateTenantResponse:
        return tenants_pb2.CreateTenantResponse(tenant=await self.tenants.create_tenant(request))

    async def GetTenant(  # noqa: N802
        self, request: tenants_pb2.GetTenantInput, context: Context
    ) -> tenants_pb2.GetTenantResponse:
        tenant = await self.tenants.get_tenant(TenantIds.ensure(request.tenant_id))
        return tenants_pb2.GetTenantResponse(tenant=tenant)

    async def GetTenantBySlug(  # noqa: N802
        self, request: tenants_pb2.GetTenantBySlugInput, context: Context
    ) -> tenants_pb2.GetTenantBySlugResponse:
        return tenants_pb2.GetTenantBySlugResponse(tenant=await self.tenants.get_by_slug(request.slug))

    async def ListTenants(  # noqa: N802
        self, request: tenants_pb2.ListTenantsInputOrCursor, context: Context
    ) -> tenants_pb2.ListTenantsResponse:
        return await self.tenants.list_tenants(request)

    async def DeleteTenant(  # noqa: N802
        self, request: tenants_pb2.DeleteTenantInput, context: Context
    ) -> tenants_pb2.DeleteTenantResponse:
        await self.tenants.delete_tenant(TenantIds.ensure(request.tenant_id))
        return tenants_pb2.DeleteTenantResponse()

    async def UpdateTenant(  # noqa: N802
        self, request: tenants_pb2.UpdateTenantInput, context: Context
    ) -> tenants_pb2.UpdateTenantResponse:
        return tenants_pb2.UpdateTenantResponse(tenant=await self.tenants.update_tenant(request))

    async def WatchTenantChanges(  # noqa: N802 - an async generator
        self, request: tenants_pb2.WatchTenantChangesInput, context: Context
    ) -> AsyncIterator[tenants_pb2.WatchTenantChangesResponse]:
        async for change in self.changes.watch():
            yield change
