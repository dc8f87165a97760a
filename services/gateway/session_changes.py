"""The gateway's follower of the auth service's session changes (services/gateway/change_follower.py):
what each change drops from the session cache."""

from __future__ import annotations

from functools import partial

import grpc

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.principal import AudienceSigner
from services.gateway.change_follower import ChangeFollower
from services.gateway.session_cache import SessionCache


def apply_change(cache: SessionCache, change: sessions_pb2.WatchSessionChangesResponse) -> None:
    kind = change.WhichOneof("kind")
    if kind == "caught_up":
        if not cache.trusted:
            cache.trust()
    elif kind == "session_id":
        cache.forget_sessions(session_id=change.session_id)
    elif kind == "tenant_user_id":
        cache.forget_sessions(tenant_user_id=change.tenant_user_id)
    elif kind == "tenant_id":
        cache.forget_sessions(tenant_id=change.tenant_id)
    else:
        # A change this gateway does not understand may end any session.
        cache.distrust()


class SessionChangeFollower(ChangeFollower[sessions_pb2.WatchSessionChangesResponse]):
    def __init__(
        self,
        channel: grpc.aio.Channel,
        signer: AudienceSigner,
        cache: SessionCache,
        retry_seconds: float,
        silence_seconds: float,
    ) -> None:
        super().__init__(
            channel,
            sessions_pb2_grpc.SessionsServiceStub(channel).WatchSessionChanges,
            sessions_pb2.WatchSessionChangesInput(),
            sessions_pb2.WatchSessionChangesResponse,
            cache,
            partial(apply_change, cache),
            signer,
            retry_seconds,
            silence_seconds,
        )
