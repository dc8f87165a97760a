"""`central tenants delete TENANT_ID`: a tenant and everything each domain holds for it (its users
and their sessions, its auth connectors, its transcription jobs), for an operator; a signup that
gave up half-way, say. The tenant goes first, so that nothing can be added meanwhile; run again
after a failure, it finishes what is left (NOT_FOUND means already gone).
"""

from __future__ import annotations

import json
import sys

import grpc

from central.auth.v1 import (
    auth_connectors_pb2,
    auth_connectors_pb2_grpc,
    tenant_users_pb2,
    tenant_users_pb2_grpc,
)
from central.media.v1 import transcription_jobs_pb2, transcription_jobs_pb2_grpc
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.config import Config
from common.container import Container
from common.grpc.calls import found

PAGE = 200


async def delete_tenant(config: Config, tenant_id: str) -> int:
    container = Container.create(config)
    deadline = config.rpc_timeout_seconds
    tenants = tenants_pb2_grpc.TenantsServiceStub(container.system_channel("tenants"))
    auth = container.system_channel("auth")
    users = tenant_users_pb2_grpc.TenantUsersServiceStub(auth)
    connectors = auth_connectors_pb2_grpc.AuthConnectorsServiceStub(auth)
    jobs = transcription_jobs_pb2_grpc.TranscriptionJobsServiceStub(container.system_channel("media"))
    try:
        removed_tenant = await found(
            tenants.DeleteTenant(tenants_pb2.DeleteTenantInput(tenant_id=tenant_id), timeout=deadline)
        )
        removed_jobs = await jobs.DeleteTenantTranscriptionJobs(
            transcription_jobs_pb2.DeleteTenantTranscriptionJobsInput(tenant_id=tenant_id), timeout=deadline
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
        removed_connectors = await connectors.DeleteTenantAuthConnectors(
            auth_connectors_pb2.DeleteTenantAuthConnectorsInput(tenant_id=tenant_id), timeout=deadline
        )
    except grpc.aio.AioRpcError as error:
        print(f"{error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finally:
        await container.close()
    removed = {
        "tenantId": tenant_id,
        "deletedTenant": removed_tenant,
        "deletedUsers": removed_users,
        "deletedAuthConnectors": removed_connectors.deleted,
        "deletedTranscriptionJobs": removed_jobs.deleted,
    }
    print(json.dumps(removed))
    return 0
