"""The tenants gRPC service, as `central serve tenants` runs it (common/processes.py)."""

from __future__ import annotations

import grpc

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.container import Container
from common.grpc.guard import Guard
from common.grpc.server import Register
from services.tenants.api import TenantsApi
from services.tenants.row_cache import TenantChangeHub, TenantRowCache
from services.tenants.service import TenantService

MAX_CACHED_TENANTS = 100_000
SERVICE = tenants_pb2.DESCRIPTOR.services_by_name["TenantsService"]


async def registrar(container: Container) -> Register:
    """What adds the tenants service to a gRPC server, wired to the container's pools."""
    pools = await container.pools()
    rows = TenantRowCache(MAX_CACHED_TENANTS)
    changes = TenantChangeHub(container.database_url(), rows)
    changes.start()
    container.on_close(changes.close)
    api = TenantsApi(TenantService(pools.rw, pools.ro, container.cursors, rows), changes)

    def register(server: grpc.aio.Server, guard: Guard) -> list[str]:
        tenants_pb2_grpc.add_TenantsServiceServicer_to_server(guard(api, SERVICE), server)
        return [SERVICE.full_name]

    return register
