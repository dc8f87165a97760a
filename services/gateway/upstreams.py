"""The services behind the gateway. A new service is one line here; its routes come from its protos."""

from __future__ import annotations

from google.protobuf.descriptor import ServiceDescriptor

from central.auth.v1 import auth_connectors_pb2, sessions_pb2, tenant_users_pb2
from central.identity.v1 import signup_pb2
from central.tenants.v1 import tenants_pb2
from common.config import Config, HostPort

TENANTS = tenants_pb2.DESCRIPTOR.services_by_name["TenantsService"]
TENANT_USERS = tenant_users_pb2.DESCRIPTOR.services_by_name["TenantUsersService"]
AUTH_CONNECTORS = auth_connectors_pb2.DESCRIPTOR.services_by_name["AuthConnectorsService"]
SESSIONS = sessions_pb2.DESCRIPTOR.services_by_name["SessionsService"]
SIGNUP = signup_pb2.DESCRIPTOR.services_by_name["SignupService"]


def upstream_services(config: Config) -> list[tuple[ServiceDescriptor, HostPort]]:
    return [
        (TENANTS, config.tenants_addr),
        (TENANT_USERS, config.auth_addr),
        (AUTH_CONNECTORS, config.auth_addr),
        (SESSIONS, config.auth_addr),
        # Signup runs on Temporal, started from the auth process.
        (SIGNUP, config.auth_addr),
    ]
