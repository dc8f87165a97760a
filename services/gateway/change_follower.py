"""The gateway's end of a service's stream of changes, held open for as long as it runs.

`caught_up` makes the cache trusted (and empty) and, sent again as a heartbeat, keeps it so;
each change drops what it names; a broken, ended or silent stream (nothing heard for longer
than the silence bound) makes the cache untrusted at once, then the follower reconnects.
Which stream and what a change does are the follower's parameters; these rules are its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from common.background import BackgroundLoop
from common.grpc.channels import principal_metadata
from common.logs import get_logger
from common.principal import GATEWAY, AudienceSigner

Change = TypeVar("Change", bound=Message)
Watch = Callable[..., "grpc.aio.UnaryStreamCall[Any, Any]"]


class FollowedCache(Protocol):
    @property
    def trusted(self) -> bool: ...

    def distrust(self) -> None: ...


class ChangeFollower(Generic[Change]):
    def __init__(
        self,
        channel: grpc.aio.Channel,
        watch: Watch,
        watch_input: Message,
        change_type: type[Change],
        cache: FollowedCache,
        apply: Callable[[Change], None],
        signer: AudienceSigner,
        retry_seconds: float,
        silence_seconds: float,
    ) -> None:
        self.channel = channel
        self._watch = watch
        self._watch_input = watch_input
        self._change_type = change_type
        self._cache = cache
        self._apply = apply
        self._signer = signer
        self._retry_seconds = retry_seconds
        self._silence_seconds = silence_seconds
        name = change_type.DESCRIPTOR.name
        self._loop = BackgroundLoop(f"follower-{name}", self._follow_forever)
        self._logger = get_logger(f"ChangeFollower[{name}]")

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()
        self._cache.distrust()

    async def _follow_forever(self) -> None:
        while True:
            try:
                call = self._watch(
                    self._watch_input, metadata=principal_metadata(self._signer, GATEWAY), wait_for_ready=True
                )
                await self._follow(call)
                self._logger.warning("changes ended; the cache answers nothing")
            except TimeoutError:
                if self._cache.trusted:
                    self._logger.warning("changes silent; the cache answers nothing")
            except grpc.aio.AioRpcError as error:
                if self._cache.trusted:
                    self._logger.warning("changes lost (%s); the cache answers nothing", error.code())
            finally:
                self._cache.distrust()
            await asyncio.sleep(self._retry_seconds)

    async def _follow(self, call: grpc.aio.UnaryStreamCall[Any, Any]) -> None:
        try:
            while True:
                async with asyncio.timeout(self._silence_seconds):
                    change = await call.read()
                if not isinstance(change, self._change_type):
                    return  # grpc.aio.EOF: the stream ended
                self._apply(change)
        finally:
            call.cancel()
