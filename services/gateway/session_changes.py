"""The gateway's end of the auth service's stream of session changes, held open for as long as it runs.

`caught_up` makes the cache trusted (and empty) and, sent again as a heartbeat, keeps it so;
each change drops what it names; a broken, ended or silent stream (nothing heard for longer
than the silence bound) makes the cache untrusted at once, then the follower reconnects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.background import BackgroundLoop
from common.grpc.channels import principal_metadata
from common.logs import get_logger
from common.principal import GATEWAY, AudienceSigner
from services.gateway.session_cache import SessionCache


def apply_change(cache: SessionCache, change: sessions_pb2.WatchSessionChangesResponse) -> None:
    kind = change.WhichOneof("kind")
    if kind == "caught_up":
        if not cache.trusted:
            cache.trust()
    elif kind == "session_id":
        cache.forget(session_id=change.session_id)
    elif kind == "tenant_user_id":
        cache.forget(tenant_user_id=change.tenant_user_id)
    elif kind == "tenant_id":
        cache.forget(tenant_id=change.tenant_id)
    else:
        # A change this gateway does not understand may end any session.
        cache.distrust()


class SessionChangeFollower:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        signer: AudienceSigner,
        cache: SessionCache,
        retry_seconds: float,
        silence_seconds: float,
    ) -> None:
        self.channel = channel
        self._watch = sessions_pb2_grpc.SessionsServiceStub(channel).WatchSessionChanges
        self._signer = signer
        self._cache = cache
        self._retry_seconds = retry_seconds
        self._silence_seconds = silence_seconds
        self._loop = BackgroundLoop("session-change-follower", self._follow_forever)
        self._logger = get_logger(type(self).__name__)

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()
        self._cache.distrust()

    async def _follow_forever(self) -> None:
        while True:
            try:
                call = self._watch(
                    sessions_pb2.WatchSessionChangesInput(),
                    metadata=principal_metadata(self._signer, GATEWAY),
                    wait_for_ready=True,
                )
                await self._follow(call)
                self._logger.warning("session changes ended; validating every request")
            except TimeoutError:
                if self._cache.trusted:
                    self._logger.warning("session changes silent; validating every request")
            except grpc.aio.AioRpcError as error:
                if self._cache.trusted:
                    self._logger.warning("session changes lost (%s); validating every request", error.code())
            finally:
                self._cache.distrust()
            await asyncio.sleep(self._retry_seconds)

    async def _follow(
        self, call: grpc.aio.UnaryStreamCall[Any, sessions_pb2.WatchSessionChangesResponse]
    ) -> None:
        try:
            while True:
                async with asyncio.timeout(self._silence_seconds):
                    change = await call.read()
                if not isinstance(change, sessions_pb2.WatchSessionChangesResponse):
                    return  # grpc.aio.EOF: the stream ended
                apply_change(self._cache, change)
        finally:
            call.cancel()
