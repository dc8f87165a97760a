"""The auth gRPC services: tenant users, auth connectors, sessions, and the signup saga's
front door, as `central serve auth` runs them (common/processes.py)."""

from __future__ import annotations

from datetime import timedelta

import grpc

from central.auth.v1 import (
    auth_connectors_pb2,
    auth_connectors_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
    tenant_users_pb2,
    tenant_users_pb2_grpc,
)
from central.identity.v1 import signup_pb2, signup_pb2_grpc
from common.clock import Clock, SystemClock
from common.container import Container
from common.crypto import SecretBox
from common.grpc.guard import Guard
from common.grpc.server import Register
from common.temporal.client import LazyDispatcher
from services.auth.api import AuthConnectorsApi, SessionsApi, TenantUsersApi
from services.auth.auth_connectors import AuthConnectorService
from services.auth.oidc.flow import OidcLogin
from services.auth.oidc.identities import ExternalIdentities
from services.auth.oidc.provider import ProviderDirectory
from services.auth.passwords import Passwords
from services.auth.session_changes import SessionChangeHub
from services.auth.sessions import SessionPolicy, SessionService
from services.auth.signup import SignupApi
from services.auth.tenant_users import TenantUserService
from services.auth.tenants_directory import TenantsDirectory
from services.auth.throttle import LoginThrottle

TENANT_USERS = tenant_users_pb2.DESCRIPTOR.services_by_name["TenantUsersService"]
AUTH_CONNECTORS = auth_connectors_pb2.DESCRIPTOR.services_by_name["AuthConnectorsService"]
SESSIONS = sessions_pb2.DESCRIPTOR.services_by_name["SessionsService"]
SIGNUP = signup_pb2.DESCRIPTOR.services_by_name["SignupService"]


async def registrar(
    container: Container, clock: Clock | None = None, passwords: Passwords | None = None
) -> Register:
    """What adds the auth services to a gRPC server, wired to the container's dependencies."""
    config = container.config
    clock = clock or SystemClock()
    passwords = passwords or Passwords()
    pools = await container.pools()
    connectors = AuthConnectorService(pools.rw, pools.ro, container.cursors, SecretBox.load(config.home))
    tenants = TenantsDirectory(container.system_channel("tenants"), config.rpc_timeout_seconds)
    users = TenantUserService(pools.rw, pools.ro, container.cursors, passwords, connectors, tenants)
    throttle = LoginThrottle(pools.rw, clock, config.login_window_seconds)
    sessions = SessionService(
        pools.rw,
        pools.ro,
        container.cursors,
        clock,
        SessionPolicy(
            ttl=timedelta(seconds=config.session_ttl_seconds),
            idle_timeout=timedelta(seconds=config.session_idle_seconds),
        ),
        passwords,
        users,
        connectors,
        throttle,
        max_failures_per_email=config.login_max_failures_per_email,
        max_failures_per_address=config.login_max_failures_per_address,
    )

    changes = SessionChangeHub(container.database_url())
    changes.start()
    container.on_close(changes.close)
    oidc = OidcLogin(
        pools.rw,
        clock,
        config.public_url,
        connectors,
        # Well under the gateway's deadline: a provider that does not answer is a quick 503.
        ProviderDirectory(timeout_seconds=config.rpc_timeout_seconds / 3),
        ExternalIdentities(pools.rw, users, clock),
        sessions,
    )

    # Connected on first use: the auth service starts, and serves logins, without Temporal.
    signup = SignupApi(
        LazyDispatcher(config, container.telemetry),
        passwords,
        users,
        sessions,
        throttle,
        config.signup_max_per_address,
    )

    def register(server: grpc.aio.Server, guard: Guard) -> list[str]:
        tenant_users_pb2_grpc.add_TenantUsersServiceServicer_to_server(
            guard(TenantUsersApi(users), TENANT_USERS), server
        )
        auth_connectors_pb2_grpc.add_AuthConnectorsServiceServicer_to_server(
            guard(AuthConnectorsApi(connectors), AUTH_CONNECTORS), server
        )
        sessions_pb2_grpc.add_SessionsServiceServicer_to_server(
            guard(SessionsApi(sessions, changes, oidc), SESSIONS), server
        )
        signup_pb2_grpc.add_SignupServiceServicer_to_server(guard(signup, SIGNUP), server)
        return [TENANT_USERS.full_name, AUTH_CONNECTORS.full_name, SESSIONS.full_name, SIGNUP.full_name]

    return register
