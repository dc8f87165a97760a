"""Steps on sessions: clearing out ended ones."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from temporalio import activity

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.temporal.errors import calling


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
        self.sessions = sessions_pb2_grpc.SessionsServiceStub(auth)
        self.deadline = deadline_seconds

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
