"""`central tenants delete TENANT_ID`: a tenant and its users (their sessions go with them), for an
operator; a signup that gave up half-way, say. The tenant goes first, so that no user can be added
meanwhile; run again after a failure, it finishes what is left (NOT_FOUND means already gone).

Its auth connectors stay behind, unreachable: auth has no rpc to remove a tenant's connectors yet.
"""

from __future__ import annotations

import json
import sys

import grpc

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.config import Config
from common.container import Container
from common.grpc.calls import found

PAGE = 200


async def delete_tenant(config: Config, tenant_id: str) -> int:
    container = Container.create(config)
    deadline = config.rpc_timeout_seconds
    tenants = tenants_pb2_grpc.TenantsServiceStub(container.system_channel(str(config.tenants_addr)))
    users = tenant_users_pb2_grpc.TenantUsersServiceStub(container.system_channel(str(config.auth_addr)))
    try:
        removed_tenant = await found(
            tenants.DeleteTenant(tenants_pb2.DeleteTenantInput(tenant_id=tenant_id), timeout=deadline)
        )
        removed_users = 0
        while True:
            # Always the first page: what it held is deleted before the next is asked for.
            page = await users.ListTenantUsers(
                tenant_users_pb2.ListTenantUsersInputOrCursor(
                    tenant_id=tenant_id, input=tenant_users_pb2.ListTenantUsersInput(limit=PAGE)
                ),
                timeout=deadline,
            )
            for user in page.tenant_users:
                request = tenant_users_pb2.DeleteTenantUserInput(
                    tenant_id=tenant_id, tenant_user_id=user.tenant_user_id
                )
                removed_users += await found(users.DeleteTenantUser(request, timeout=deadline))
            if not page.next_cursor:
                break
    except grpc.aio.AioRpcError as error:
        print(f"{error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finally:
        await container.close()
    print(json.dumps({"tenantId": tenant_id, "deletedTenant": removed_tenant, "deletedUsers": removed_users}))
    return 0
