"""Every change that can end or alter a session, told to every auth replica and from them to the gateways.

A change is announced with PostgreSQL NOTIFY inside the transaction that makes it, so it is
delivered once that transaction commits and never if it rolls back. Each auth replica holds
one LISTEN connection (every replica hears its own notifications too, so there is one path)
and fans what it hears out to the gateways' streams. A stream only exists while the listener
is live: when the listener breaks, or a gateway falls behind, its stream ends, and the gateway
stops trusting its cache until it holds a new, caught-up stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Literal

from central.auth.v1 import sessions_pb2 as pb
from common.db.executor import Executor
from common.db.listener import Listener
from common.errors import UnavailableError

CHANNEL = "auth_session_changes"
Scope = Literal["session_id", "tenant_user_id", "tenant_id"]
# A gateway this many changes behind is dropped, not waited for: it will reconnect, empty.
_MAX_BACKLOG = 10_000
_LIVE_WAIT_SECONDS = 5.0
# `caught_up` again after this long without a change, so that a gateway can tell a quiet stream
# from a silent one (services/gateway/session_changes.py).
HEARTBEAT_SECONDS = 1.0


async def announce(executor: Executor, scope: Scope, rich_id: str) -> None:
    """Announce, inside the caller's transaction, that sessions of `scope` `rich_id` changed."""
    await executor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{scope}={rich_id}"))


def to_change(payload: str) -> pb.WatchSessionChangesResponse | None:
    scope, _, rich_id = payload.partition("=")
    if not rich_id:
        return None
    if scope == "session_id":
        return pb.WatchSessionChangesResponse(session_id=rich_id)
    if scope == "tenant_user_id":
        return pb.WatchSessionChangesResponse(tenant_user_id=rich_id)
    if scope == "tenant_id":
        return pb.WatchSessionChangesResponse(tenant_id=rich_id)
    return None


class _Ended:
    """Put on a stream's queue when the stream can no longer be trusted."""


class SessionChangeHub:
    """One LISTEN connection, fanned out to the streams of the gateways connected to this replica."""

    def __init__(self, database_url: str) -> None:
        self._streams: set[asyncio.Queue[pb.WatchSessionChangesResponse | _Ended]] = set()
        self._live = asyncio.Event()
        self._listener = Listener(database_url, CHANNEL, self._fan_out, self._live.set, self._lost)

    def start(self) -> None:
        self._listener.start()

    async def close(self) -> None:
        await self._listener.close()
        self._lost()

    async def watch(self) -> AsyncGenerator[pb.WatchSessionChangesResponse]:
        """`caught_up` first, then every change heard; ends (UNAVAILABLE) when no longer complete."""
        self.start()
        try:
            await asyncio.wait_for(self._live.wait(), _LIVE_WAIT_SECONDS)
        except TimeoutError:
            raise UnavailableError("session changes are not being heard") from None
        queue: asyncio.Queue[pb.WatchSessionChangesResponse | _Ended] = asyncio.Queue(_MAX_BACKLOG)
        self._streams.add(queue)
        try:
            yield pb.WatchSessionChangesResponse(caught_up=True)
            while True:
                try:
                    change = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    change = pb.WatchSessionChangesResponse(caught_up=True)
                if isinstance(change, _Ended):
                    raise UnavailableError("session changes were interrupted")
                yield change
        finally:
            self._streams.discard(queue)

    def _fan_out(self, payload: str) -> None:
        change = to_change(payload)
        if change is None:
            return
        for queue in list(self._streams):
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                self._streams.discard(queue)
                _end(queue)

    def _lost(self) -> None:
        self._live.clear()
        for queue in self._streams:
            _end(queue)
        self._streams.clear()


def _end(queue: asyncio.Queue[pb.WatchSessionChangesResponse | _Ended]) -> None:
    # A full queue is drained of one change to make room: the stream ends anyway.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(_Ended())
