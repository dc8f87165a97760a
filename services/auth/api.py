"""The gRPC face of the auth domain: protos in, one domain service call, protos out.

Who may call each rpc is its proto's `central.api.v1.access`, enforced by the guard before
the handler runs; what is left here depends on the resource (a session is its caller's own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from central.auth.v1 import auth_connectors_pb2 as connectors_pb
from central.auth.v1 import auth_connectors_pb2_grpc as connectors_grpc
from central.auth.v1 import sessions_pb2 as sessions_pb
from central.auth.v1 import sessions_pb2_grpc as sessions_grpc
from central.auth.v1 import tenant_users_pb2 as users_pb
from central.auth.v1 import tenant_users_pb2_grpc as users_grpc
from common.principal import current_principal
from services.auth.auth_connectors import AuthConnectorService
from services.auth.oidc.flow import OidcLogin
from services.auth.session_changes import SessionChangeHub
from services.auth.sessions import SessionService
from services.auth.tenant_users import TenantUserService

Context = grpc.aio.ServicerContext[Any, Any]


class TenantUsersApi(users_grpc.TenantUsersServiceServicer):
    def __init__(self, users: TenantUserService) -> None:
        self.users = users

    async def CreateTenantUser(  # noqa: N802 - gRPC method names
        self, request: users_pb.CreateTenantUserInput, context: Context
    ) -> users_pb.CreateTenantUserResponse:
        return users_pb.CreateTenantUserResponse(tenant_user=await self.users.tx_create_tenant_user(request))

    async def ProvisionTenantUser(  # noqa: N802
        self, request: users_pb.ProvisionTenantUserInput, context: Context
    ) -> users_pb.ProvisionTenantUserResponse:
        return users_pb.ProvisionTenantUserResponse(
            tenant_user=await self.users.tx_provision_tenant_user(request)
        )

    async def OffboardTenantUser(  # noqa: N802
        self, request: users_pb.OffboardTenantUserInput, context: Context
    ) -> users_pb.OffboardTenantUserResponse:
        await self.users.tx_offboard_tenant_user(request.tenant_id, request.tenant_user_id)
        return users_pb.OffboardTenantUserResponse()

    async def DeleteTenantUser(  # noqa: N802
        self, request: users_pb.DeleteTenantUserInput, context: Context
    ) -> users_pb.DeleteTenantUserResponse:
        await self.users.delete_tenant_user(request.tenant_id, request.tenant_user_id)
        return users_pb.DeleteTenantUserResponse()

    async def GetTenantUser(  # noqa: N802
        self, request: users_pb.GetTenantUserInput, context: Context
    ) -> users_pb.GetTenantUserResponse:
        return users_pb.GetTenantUserResponse(
            tenant_user=await self.users.get_tenant_user(request.tenant_id, request.tenant_user_id)
        )

    async def ListTenantUsers(  # noqa: N802
        self, request: users_pb.ListTenantUsersInputOrCursor, context: Context
    ) -> users_pb.ListTenantUsersResponse:
        return await self.users.list_tenant_users(request)

    async def GetMe(self, request: users_pb.GetMeInput, context: Context) -> users_pb.GetMeResponse:  # noqa: N802
        return users_pb.GetMeResponse(tenant_user=await self.users.get_me(current_principal()))


class AuthConnectorsApi(connectors_grpc.AuthConnectorsServiceServicer):
    def __init__(self, connectors: AuthConnectorService) -> None:
        self.connectors = connectors

    async def CreateAuthConnector(  # noqa: N802
        self, request: connectors_pb.CreateAuthConnectorInput, context: Context
    ) -> connectors_pb.CreateAuthConnectorResponse:
        connector = await self.connectors.create_auth_connector(request)
        return connectors_pb.CreateAuthConnectorResponse(auth_connector=connector)

    async def GetAuthConnector(  # noqa: N802
        self, request: connectors_pb.GetAuthConnectorInput, context: Context
    ) -> connectors_pb.GetAuthConnectorResponse:
        connector = await self.connectors.get_by_auth_connector_id(
            request.tenant_id, request.auth_connector_id
        )
        return connectors_pb.GetAuthConnectorResponse(auth_connector=connector)

    async def ListAuthConnectors(  # noqa: N802
        self, request: connectors_pb.ListAuthConnectorsInputOrCursor, context: Context
    ) -> connectors_pb.ListAuthConnectorsResponse:
        return await self.connectors.list_auth_connectors(request)

    async def EnableAuthConnector(  # noqa: N802
        self, request: connectors_pb.EnableAuthConnectorInput, context: Context
    ) -> connectors_pb.EnableAuthConnectorResponse:
        connector = await self.connectors.set_enabled(
            request.tenant_id, request.auth_connector_id, enabled=True
        )
        return connectors_pb.EnableAuthConnectorResponse(auth_connector=connector)

    async def DisableAuthConnector(  # noqa: N802
        self, request: connectors_pb.DisableAuthConnectorInput, context: Context
    ) -> connectors_pb.DisableAuthConnectorResponse:
        connector = await self.connectors.tx_disable_auth_connector(
            request.tenant_id, request.auth_connector_id
        )
        return connectors_pb.DisableAuthConnectorResponse(auth_connector=connector)

    async def DeleteAuthConnector(  # noqa: N802
        self, request: connectors_pb.DeleteAuthConnectorInput, context: Context
    ) -> connectors_pb.DeleteAuthConnectorResponse:
        await self.connectors.tx_delete_auth_connector(request.tenant_id, request.auth_connector_id)
        return connectors_pb.DeleteAuthConnectorResponse()

    async def DeleteTenantAuthConnectors(  # noqa: N802
        self, request: connectors_pb.DeleteTenantAuthConnectorsInput, context: Context
    ) -> connectors_pb.DeleteTenantAuthConnectorsResponse:
        deleted = await self.connectors.tx_delete_tenant_auth_connectors(request.tenant_id)
        return connectors_pb.DeleteTenantAuthConnectorsResponse(deleted=deleted)

    async def ReencryptSecrets(  # noqa: N802
        self, request: connectors_pb.ReencryptSecretsInput, context: Context
    ) -> connectors_pb.ReencryptSecretsResponse:
        return await self.connectors.tx_reencrypt_secrets()

    async def ListLoginOptions(  # noqa: N802
        self, request: connectors_pb.ListLoginOptionsInput, context: Context
    ) -> connectors_pb.ListLoginOptionsResponse:
        options = await self.connectors.list_login_options(request.tenant_id)
        return connectors_pb.ListLoginOptionsResponse(auth_connectors=options)


class SessionsApi(sessions_grpc.SessionsServiceServicer):
    def __init__(self, sessions: SessionService, changes: SessionChangeHub, oidc: OidcLogin) -> None:
        self.sessions = sessions
        self.changes = changes
        self.oidc = oidc

    async def StartOidcLogin(  # noqa: N802
        self, request: sessions_pb.StartOidcLoginInput, context: Context
    ) -> sessions_pb.StartOidcLoginResponse:
        return await self.oidc.start(request)

    async def FinishOidcLogin(  # noqa: N802
        self, request: sessions_pb.FinishOidcLoginInput, context: Context
    ) -> sessions_pb.FinishOidcLoginResponse:
        # Every login opens a new session; whatever session the caller had is not reused.
        return await self.oidc.finish(request, current_principal())

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
        return await self.sessions.list_my_sessions(current_principal(), request)

    async def RevokeMySession(  # noqa: N802
        self, request: sessions_pb.RevokeMySessionInput, context: Context
    ) -> sessions_pb.RevokeMySessionResponse:
        principal = current_principal()
        await self.sessions.revoke_my_session(principal, request.session_id)
        return sessions_pb.RevokeMySessionResponse(session_ended=request.session_id == principal.session_id)

    async def DeleteEndedSessions(  # noqa: N802
        self, request: sessions_pb.DeleteEndedSessionsInput, context: Context
    ) -> sessions_pb.DeleteEndedSessionsResponse:
        deleted = await self.sessions.delete_ended(request.ended_seconds_ago, request.batch_size)
        return sessions_pb.DeleteEndedSessionsResponse(deleted=deleted)

    async def DeleteExpiredLoginThrottles(  # noqa: N802
        self, request: sessions_pb.DeleteExpiredLoginThrottlesInput, context: Context
    ) -> sessions_pb.DeleteExpiredLoginThrottlesResponse:
        deleted = await self.sessions.delete_expired_login_throttles(request.batch_size)
        return sessions_pb.DeleteExpiredLoginThrottlesResponse(deleted=deleted)

    async def ValidateSession(  # noqa: N802
        self, request: sessions_pb.ValidateSessionInput, context: Context
    ) -> sessions_pb.ValidateSessionResponse:
        session = await self.sessions.validate(request.session_token)
        return sessions_pb.ValidateSessionResponse(session=session)

    async def WatchSessionChanges(  # noqa: N802 - an async generator
        self, request: sessions_pb.WatchSessionChangesInput, context: Context
    ) -> AsyncIterator[sessions_pb.WatchSessionChangesResponse]:
        async for change in self.changes.watch():
            yield change

    async def ReportSessionUse(  # noqa: N802
        self, request: sessions_pb.ReportSessionUseInput, context: Context
    ) -> sessions_pb.ReportSessionUseResponse:
        await self.sessions.report_use(list(request.uses))
        return sessions_pb.ReportSessionUseResponse()
