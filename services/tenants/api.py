"""The gRPC face of the tenants domain: who may call what, protos in, TenantService, protos out."""

from __future__ import annotations

from typing import Any

import grpc

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.authz import require_admin, require_system, require_tenant
from services.tenants.ids import TenantIds
from services.tenants.service import TenantService, tenant_not_found

Context = grpc.aio.ServicerContext[Any, Any]


class TenantsApi(tenants_pb2_grpc.TenantsServiceServicer):
    def __init__(self, tenants: TenantService) -> None:
        self.tenants = tenants

    async def CreateTenant(  # noqa: N802 - gRPC method names
        self, request: tenants_pb2.CreateTenantInput, context: Context
    ) -> tenants_pb2.CreateTenantResponse:
        require_system()
        if request.tenant_id:
            TenantIds.ensure(request.tenant_id, field="tenant_id")
        return tenants_pb2.CreateTenantResponse(tenant=await self.tenants.create_tenant(request))

    async def GetTenant(  # noqa: N802
        self, request: tenants_pb2.GetTenantInput, context: Context
    ) -> tenants_pb2.GetTenantResponse:
        async def respond(tenant: tenants_pb2.TenantPublic) -> tenants_pb2.GetTenantResponse:
            return tenants_pb2.GetTenantResponse(tenant=tenant)

        tenant_id = TenantIds.ensure(request.tenant_id, field="tenant_id")
        require_tenant(tenant_id, tenant_not_found)
        return await self.tenants.with_tenant_by_tenant_id(tenant_id, respond)

    async def GetTenantBySlug(  # noqa: N802
        self, request: tenants_pb2.GetTenantBySlugInput, context: Context
    ) -> tenants_pb2.GetTenantBySlugResponse:
        # Public: a login page finds its tenant by slug.
        tenant = await self.tenants.get_by_slug(request.slug)
        if tenant is None:
            raise tenant_not_found()
        return tenants_pb2.GetTenantBySlugResponse(tenant=tenant)

    async def ListTenants(  # noqa: N802
        self, request: tenants_pb2.ListTenantsInputOrCursor, context: Context
    ) -> tenants_pb2.ListTenantsResponse:
        require_system()
        page = self.tenants.cursors.start(request, tenants_pb2.ListTenantsInput)
        tenants, next_cursor = await self.tenants.list_tenants(page)
        return tenants_pb2.ListTenantsResponse(tenants=tenants, next_cursor=next_cursor)

    async def DeleteTenant(  # noqa: N802
        self, request: tenants_pb2.DeleteTenantInput, context: Context
    ) -> tenants_pb2.DeleteTenantResponse:
        require_system()
        await self.tenants.delete_tenant(TenantIds.ensure(request.tenant_id, field="tenant_id"))
        return tenants_pb2.DeleteTenantResponse()

    async def UpdateTenant(  # noqa: N802
        self, request: tenants_pb2.UpdateTenantInput, context: Context
    ) -> tenants_pb2.UpdateTenantResponse:
        require_admin(TenantIds.ensure(request.tenant_id, field="tenant_id"), tenant_not_found)
        return tenants_pb2.UpdateTenantResponse(tenant=await self.tenants.update_tenant(request))
