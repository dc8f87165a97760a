"""Steps on accounts and sessions: offboarding a user and clearing out ended sessions."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from temporalio import activity

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc, tenant_users_pb2, tenant_users_pb2_grpc
from services.identity.errors import application_error, calling


@dataclass(frozen=True)
class TenantUserRef:
    tenant_id: str
    tenant_user_id: str


@dataclass(frozen=True)
class RevokedSessions:
    revoked: int


@dataclass(frozen=True)
class RemovedUser:
    # False when an earlier attempt had already removed them.
    removed: bool


@dataclass(frozen=True)
class DeleteEndedSessionsActivityInput:
    ended_seconds_ago: int
    batch_size: int


@dataclass(frozen=True)
class DeletedSessions:
    deleted: int


@dataclass(frozen=True)
class DeleteExpiredLoginThrottlesActivityInput:
    batch_size: int


@dataclass(frozen=True)
class DeletedLoginThrottles:
    deleted: int


class AccountActivities:
    """Holds a gRPC channel to the auth service, signed as the system."""

    def __init__(self, auth: grpc.aio.Channel, deadline_seconds: float) -> None:
        self.users = tenant_users_pb2_grpc.TenantUsersServiceStub(auth)
        self.sessions = sessions_pb2_grpc.SessionsServiceStub(auth)
        self.deadline = deadline_seconds

    @activity.defn(name="accounts.revoke_sessions")
    async def revoke_sessions(self, input: TenantUserRef) -> RevokedSessions:
        response = await calling(
            self.sessions.RevokeTenantUserSessions(
                sessions_pb2.RevokeTenantUserSessionsInput(
                    tenant_id=input.tenant_id, tenant_user_id=input.tenant_user_id
                ),
                timeout=self.deadline,
            )
        )
        return RevokedSessions(response.revoked)

    @activity.defn(name="accounts.remove_user")
    async def remove_user(self, input: TenantUserRef) -> RemovedUser:
        try:
            await self.users.DeleteTenantUser(
                tenant_users_pb2.DeleteTenantUserInput(
                    tenant_id=input.tenant_id, tenant_user_id=input.tenant_user_id
                ),
                timeout=self.deadline,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return RemovedUser(removed=False)
            raise application_error(error) from error
        return RemovedUser(removed=True)

    @activity.defn(name="accounts.delete_ended_sessions")
    async def delete_ended_sessions(self, input: DeleteEndedSessionsActivityInput) -> DeletedSessions:
        response = await calling(
            self.sessions.DeleteEndedSessions(
                sessions_pb2.DeleteEndedSessionsInput(
                    ended_seconds_ago=input.ended_seconds_ago, batch_size=input.batch_size
                ),
                timeout=self.deadline,
            )
        )
        return DeletedSessions(response.deleted)

    @activity.defn(name="accounts.delete_expired_login_throttles")
    async def delete_expired_login_throttles(
        self, input: DeleteExpiredLoginThrottlesActivityInput
    ) -> DeletedLoginThrottles:
        response = await calling(
            self.sessions.DeleteExpiredLoginThrottles(
                sessions_pb2.DeleteExpiredLoginThrottlesInput(batch_size=input.batch_size),
                timeout=self.deadline,
            )
        )
        return DeletedLoginThrottles(response.deleted)
