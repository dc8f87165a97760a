"""The gRPC face of the auth domain: who may call what, protos in, domain services, protos out."""

from __future__ import annotations

from typing import Any

import grpc

from central.auth.v1 import auth_connectors_pb2 as connectors_pb
from central.auth.v1 import auth_connectors_pb2_grpc as connectors_grpc
from central.auth.v1 import sessions_pb2 as sessions_pb
from central.auth.v1 import sessions_pb2_grpc as sessions_grpc
from central.auth.v1 import tenant_users_pb2 as users_pb
from central.auth.v1 import tenant_users_pb2_grpc as users_grpc
from common.authz import require_admin, require_system, require_tenant, require_tenant_user
from common.errors import PermissionDeniedError
from common.principal import PrincipalKind, current_principal
from services.auth import errors
from services.auth.auth_connectors import AuthConnectorService
from services.auth.db import TenantUserRow
from services.auth.ids import AuthConnectorIds, SessionIds, TenantUserIds
from services.auth.sessions import SessionService
from services.auth.tenant_users import TenantUserService
from services.tenants.ids import TenantIds

Context = grpc.aio.ServicerContext[Any, Any]


def _tenant_id(value: str) -> str:
    return TenantIds.ensure(value, field="tenant_id")


class TenantUsersApi(users_grpc.TenantUsersServiceServicer):
    def __init__(self, users: TenantUserService) -> None:
        self.users = users

    async def CreateTenantUser(  # noqa: N802 - gRPC method names
        self, request: users_pb.CreateTenantUserInput, context: Context
    ) -> users_pb.CreateTenantUserResponse:
        principal = require_admin(_tenant_id(request.tenant_id), errors.tenant_not_found)
        if (request.tenant_user_id or request.password_hash) and principal.kind is not PrincipalKind.SYSTEM:
            raise PermissionDeniedError(
                "only the system may choose a user's ID or give a hash", reason="SYSTEM_ONLY"
            )
        return users_pb.CreateTenantUserResponse(tenant_user=await self.users.tx_create_tenant_user(request))

    async def OffboardTenantUser(  # noqa: N802
        self, request: users_pb.OffboardTenantUserInput, context: Context
    ) -> users_pb.OffboardTenantUserResponse:
        tenant_id = _tenant_id(request.tenant_id)
        TenantUserIds.ensure(request.tenant_user_id, field="tenant_user_id")
        require_admin(tenant_id, errors.tenant_user_not_found)
        await self.users.tx_offboard_tenant_user(tenant_id, request.tenant_user_id)
        return users_pb.OffboardTenantUserResponse()

    async def DeleteTenantUser(  # noqa: N802
        self, request: users_pb.DeleteTenantUserInput, context: Context
    ) -> users_pb.DeleteTenantUserResponse:
        require_system()
        await self.users.delete_tenant_user(_tenant_id(request.tenant_id), request.tenant_user_id)
        return users_pb.DeleteTenantUserResponse()

    async def GetTenantUser(  # noqa: N802
        self, request: users_pb.GetTenantUserInput, context: Context
    ) -> users_pb.GetTenantUserResponse:
        async def respond(row: TenantUserRow) -> users_pb.GetTenantUserResponse:
            return users_pb.GetTenantUserResponse(tenant_user=self.users.to_tenant_user(row))

        tenant_id = _tenant_id(request.tenant_id)
        TenantUserIds.ensure(request.tenant_user_id, field="tenant_user_id")
        require_tenant(tenant_id, errors.tenant_user_not_found)
        return await self.users.with_tenant_user_by_tenant_user_id(tenant_id, request.tenant_user_id, respond)

    async def ListTenantUsers(  # noqa: N802
        self, request: users_pb.ListTenantUsersInputOrCursor, context: Context
    ) -> users_pb.ListTenantUsersResponse:
        tenant_id = _tenant_id(request.tenant_id)
        require_tenant(tenant_id, errors.tenant_not_found)
        page = self.users.cursors.start(request, users_pb.ListTenantUsersInput)
        users, next_cursor = await self.users.list_tenant_users(tenant_id, page)
        return users_pb.ListTenantUsersResponse(tenant_users=users, next_cursor=next_cursor)

    async def GetMe(self, request: users_pb.GetMeInput, context: Context) -> users_pb.GetMeResponse:  # noqa: N802
        async def respond(row: TenantUserRow) -> users_pb.GetMeResponse:
            return users_pb.GetMeResponse(tenant_user=self.users.to_tenant_user_private(row))

        principal = require_tenant_user()
        return await self.users.with_tenant_user_by_tenant_user_id(
            principal.tenant_id, principal.tenant_user_id, respond, self.users.db
        )


class AuthConnectorsApi(connectors_grpc.AuthConnectorsServiceServicer):
    def __init__(self, connectors: AuthConnectorService) -> None:
        self.connectors = connectors

    def _ids(self, tenant_id: str, auth_connector_id: str, *, admin: bool) -> tuple[str, str]:
        tenant_id = _tenant_id(tenant_id)
        AuthConnectorIds.ensure(auth_connector_id, field="auth_connector_id")
        (require_admin if admin else require_tenant)(tenant_id, errors.auth_connector_not_found)
        return tenant_id, auth_connector_id

    async def CreateAuthConnector(  # noqa: N802
        self, request: connectors_pb.CreateAuthConnectorInput, context: Context
    ) -> connectors_pb.CreateAuthConnectorResponse:
        require_admin(_tenant_id(request.tenant_id), errors.tenant_not_found)
        connector = await self.connectors.create_auth_connector(request)
        return connectors_pb.CreateAuthConnectorResponse(auth_connector=connector)

    async def GetAuthConnector(  # noqa: N802
        self, request: connectors_pb.GetAuthConnectorInput, context: Context
    ) -> connectors_pb.GetAuthConnectorResponse:
        ids = self._ids(request.tenant_id, request.auth_connector_id, admin=False)
        return connectors_pb.GetAuthConnectorResponse(
            auth_connector=await self.connectors.get_by_auth_connector_id(*ids)
        )

    async def ListAuthConnectors(  # noqa: N802
        self, request: connectors_pb.ListAuthConnectorsInputOrCursor, context: Context
    ) -> connectors_pb.ListAuthConnectorsResponse:
        tenant_id = _tenant_id(request.tenant_id)
        require_tenant(tenant_id, errors.tenant_not_found)
        page = self.connectors.cursors.start(request, connectors_pb.ListAuthConnectorsInput)
        connectors, next_cursor = await self.connectors.list_auth_connectors(tenant_id, page)
        return connectors_pb.ListAuthConnectorsResponse(auth_connectors=connectors, next_cursor=next_cursor)

    async def EnableAuthConnector(  # noqa: N802
        self, request: connectors_pb.EnableAuthConnectorInput, context: Context
    ) -> connectors_pb.EnableAuthConnectorResponse:
        ids = self._ids(request.tenant_id, request.auth_connector_id, admin=True)
        return connectors_pb.EnableAuthConnectorResponse(
            auth_connector=await self.connectors.set_enabled(*ids, enabled=True)
        )

    async def DisableAuthConnector(  # noqa: N802
        self, request: connectors_pb.DisableAuthConnectorInput, context: Context
    ) -> connectors_pb.DisableAuthConnectorResponse:
        ids = self._ids(request.tenant_id, request.auth_connector_id, admin=True)
        return connectors_pb.DisableAuthConnectorResponse(
            auth_connector=await self.connectors.tx_disable_auth_connector(*ids)
        )

    async def DeleteAuthConnector(  # noqa: N802
        self, request: connectors_pb.DeleteAuthConnectorInput, context: Context
    ) -> connectors_pb.DeleteAuthConnectorResponse:
        ids = self._ids(request.tenant_id, request.auth_connector_id, admin=True)
        await self.connectors.tx_delete_auth_connector(*ids)
        return connectors_pb.DeleteAuthConnectorResponse()

    async def ListLoginOptions(  # noqa: N802
        self, request: connectors_pb.ListLoginOptionsInput, context: Context
    ) -> connectors_pb.ListLoginOptionsResponse:
        # Public: the login page of a tenant shows how to log in.
        options = await self.connectors.list_login_options(_tenant_id(request.tenant_id))
        return connectors_pb.ListLoginOptionsResponse(auth_connectors=options)


class SessionsApi(sessions_grpc.SessionsServiceServicer):
    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    async def PasswordLogin(  # noqa: N802
        self, request: sessions_pb.PasswordLoginInput, context: Context
    ) -> sessions_pb.PasswordLoginResponse:
        # Every login opens a new session; whatever session the caller had is not reused.
        user, token = await self.sessions.tx_password_login(request, current_principal())
        return sessions_pb.PasswordLoginResponse(tenant_user=user, session_token=token)

    async def Logout(self, request: sessions_pb.LogoutInput, context: Context) -> sessions_pb.LogoutResponse:  # noqa: N802
        await self.sessions.logout(current_principal())
        return sessions_pb.LogoutResponse(session_ended=True)

    async def ListMySessions(  # noqa: N802
        self, request: sessions_pb.ListMySessionsInputOrCursor, context: Context
    ) -> sessions_pb.ListMySessionsResponse:
        principal = require_tenant_user()
        page = self.sessions.cursors.start(request, sessions_pb.ListMySessionsInput)
        sessions, next_cursor = await self.sessions.list_my_sessions(principal, page)
        return sessions_pb.ListMySessionsResponse(sessions=sessions, next_cursor=next_cursor)

    async def RevokeMySession(  # noqa: N802
        self, request: sessions_pb.RevokeMySessionInput, context: Context
    ) -> sessions_pb.RevokeMySessionResponse:
        principal = require_tenant_user()
        SessionIds.ensure(request.session_id, field="session_id")
        await self.sessions.revoke_my_session(principal, request.session_id)
        return sessions_pb.RevokeMySessionResponse(session_ended=request.session_id == principal.session_id)

    async def RevokeTenantUserSessions(  # noqa: N802
        self, request: sessions_pb.RevokeTenantUserSessionsInput, context: Context
    ) -> sessions_pb.RevokeTenantUserSessionsResponse:
        require_system()
        revoked = await self.sessions.revoke_all(request.tenant_id, request.tenant_user_id)
        return sessions_pb.RevokeTenantUserSessionsResponse(revoked=revoked)

    async def DeleteEndedSessions(  # noqa: N802
        self, request: sessions_pb.DeleteEndedSessionsInput, context: Context
    ) -> sessions_pb.DeleteEndedSessionsResponse:
        require_system()
        deleted = await self.sessions.delete_ended(request.ended_seconds_ago, request.batch_size)
        return sessions_pb.DeleteEndedSessionsResponse(deleted=deleted)

    async def DeleteExpiredLoginThrottles(  # noqa: N802
        self, request: sessions_pb.DeleteExpiredLoginThrottlesInput, context: Context
    ) -> sessions_pb.DeleteExpiredLoginThrottlesResponse:
        require_system()
        deleted = await self.sessions.throttle.delete_expired(request.batch_size)
        return sessions_pb.DeleteExpiredLoginThrottlesResponse(deleted=deleted)

    async def CreateSession(  # noqa: N802
        self, request: sessions_pb.CreateSessionInput, context: Context
    ) -> sessions_pb.CreateSessionResponse:
        require_system()
        session_id, token = await self.sessions.create_session(request)
        return sessions_pb.CreateSessionResponse(session_id=session_id, session_token=token)

    async def ValidateSession(  # noqa: N802
        self, request: sessions_pb.ValidateSessionInput, context: Context
    ) -> sessions_pb.ValidateSessionResponse:
        return sessions_pb.ValidateSessionResponse(
            session=await self.sessions.validate(request.session_token)
        )
