"""When sessions were used, reported to the auth service in batches, off the request's path.

Each session is reported at most once per resolution (a minute, or a tenth of a short idle
timeout), so that `last_seen_at`, and with it the idle timeout, still moves while the
gateway answers from its cache.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import grpc

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.background import BackgroundLoop
from common.clock import Clock
from common.grpc.channels import principal_metadata
from common.logs import get_logger
from common.principal import GATEWAY, AudienceSigner

_MAX_RESOLUTION = timedelta(minutes=1)
_MAX_BATCH = 10_000


def resolution(idle_timeout: timedelta) -> timedelta:
    return min(_MAX_RESOLUTION, idle_timeout / 10)


class SessionUseLog:
    """What is owed to the auth service: the last use of each session not yet reported."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._reported: dict[str, datetime] = {}
        self._pending: dict[str, datetime] = {}

    def used(self, session_id: str, at: datetime, idle_timeout: timedelta) -> None:
        last = self._reported.get(session_id)
        if last is None or at - last >= resolution(idle_timeout):
            self._pending[session_id] = at

    def take(self) -> list[sessions_pb2.SessionUse]:
        batch: list[sessions_pb2.SessionUse] = []
        while self._pending and len(batch) < _MAX_BATCH:
            session_id, at = self._pending.popitem()
            self._reported[session_id] = at
            use = sessions_pb2.SessionUse(session_id=session_id)
            use.last_used_at.FromDatetime(at)
            batch.append(use)
        # Forget sessions not reported for a long while, so that the log stays bounded.
        horizon = self.clock.now() - 2 * _MAX_RESOLUTION
        for session_id in [s for s, at in self._reported.items() if at < horizon]:
            del self._reported[session_id]
        return batch


class SessionUseReporter:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        signer: AudienceSigner,
        log: SessionUseLog,
        interval_seconds: float,
        deadline_seconds: float,
    ) -> None:
        self._report = sessions_pb2_grpc.SessionsServiceStub(channel).ReportSessionUse
        self._signer = signer
        self.log = log
        self._interval = interval_seconds
        self._deadline = deadline_seconds
        self._loop = BackgroundLoop("session-use-reporter", self._report_forever)
        self._logger = get_logger(type(self).__name__)

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()
        await self.flush()

    async def flush(self) -> None:
        batch = self.log.take()
        if not batch:
            return
        try:
            await self._report(
                sessions_pb2.ReportSessionUseInput(uses=batch),
                timeout=self._deadline,
                metadata=principal_metadata(self._signer, GATEWAY),
            )
        except grpc.aio.AioRpcError as error:
            # Lost uses only make a session idle out a little early: never later than it should.
            self._logger.warning("session use not reported (%s)", error.code())

    async def _report_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
