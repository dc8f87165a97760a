"""The gateway's session machinery in one place: the validator, its cache, the change follower
that makes the cache trusted, and the use reporter; started with the gateway, stopped with it."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from common.clock import Clock
from common.principal import AudienceSigner
from services.gateway.session_cache import SessionCache
from services.gateway.session_changes import SessionChangeFollower
from services.gateway.session_use import SessionUseLog, SessionUseReporter
from services.gateway.sessions import SessionValidator

MAX_CACHED_SESSIONS = 100_000
_RETRY_SECONDS = 0.2
# Auth sends a heartbeat every second (services/auth/session_changes.py): three missed, and the
# stream is taken for lost.
_SILENCE_SECONDS = 3.0
_REPORT_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SessionKeeping:
    validator: SessionValidator
    follower: SessionChangeFollower
    reporter: SessionUseReporter

    @classmethod
    def build(
        cls,
        channel: grpc.aio.Channel,
        stream_channel: grpc.aio.Channel,
        signer: AudienceSigner,
        clock: Clock,
        deadline_seconds: float,
        max_cached: int = MAX_CACHED_SESSIONS,
    ) -> SessionKeeping:
        cache = SessionCache(clock, max_cached)
        uses = SessionUseLog(clock)
        return cls(
            SessionValidator(channel, signer, deadline_seconds, cache, uses),
            SessionChangeFollower(stream_channel, signer, cache, _RETRY_SECONDS, _SILENCE_SECONDS),
            SessionUseReporter(channel, signer, uses, _REPORT_INTERVAL_SECONDS, deadline_seconds),
        )

    @property
    def cache(self) -> SessionCache:
        return self.validator.cache

    def start(self) -> None:
        self.follower.start()
        self.reporter.start()

    async def close(self) -> None:
        await self.follower.close()
        await self.reporter.close()
        await self.follower.channel.close()
