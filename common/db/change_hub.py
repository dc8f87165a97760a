"""One LISTEN connection fanned out to the change streams that gateways hold open to this replica.

A service announces each change with PostgreSQL NOTIFY inside the transaction that makes it, so
it is delivered once that transaction commits and never if it rolls back; every replica hears
its own notifications too, so there is one path. A stream only exists while the listener is
live: when the listener breaks, a payload cannot be read, or a gateway falls behind, its stream
ends, and the gateway stops trusting its cache until it holds a new, caught-up stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from common.db.listener import Listener
from common.errors import UnavailableError

Change = TypeVar("Change")
# A gateway this many changes behind is dropped, not waited for: it will reconnect, empty.
_MAX_BACKLOG = 10_000
_LIVE_WAIT_SECONDS = 5.0
# `caught_up` again after this long without a change, so that a gateway can tell a quiet stream
# from a silent one (services/gateway/change_follower.py).
HEARTBEAT_SECONDS = 1.0


class Hearing(Protocol):
    """A cache of this replica's own that follows the same changes (the tenants row cache)."""

    def heard(self, payload: str) -> None: ...

    def trust(self) -> None: ...

    def distrust(self) -> None: ...


class _Ended:
    """Put on a stream's queue when the stream can no longer be trusted."""


class ChangeHub(Generic[Change]):
    def __init__(
        self,
        database_url: str,
        channel: str,
        to_change: Callable[[str], Change | None],
        caught_up: Change,
        what: str,
        also: Sequence[Hearing] = (),
    ) -> None:
        self._to_change = to_change
        self._caught_up = caught_up
        self._what = what
        # Told on the same connection, so that a replica holds one LISTEN per channel.
        self._also = also
        self._streams: set[asyncio.Queue[Change | _Ended]] = set()
        self._live = asyncio.Event()
        self._listener = Listener(database_url, channel, self._fan_out, self._went_live, self._lost)

    def start(self) -> None:
        self._listener.start()

    async def close(self) -> None:
        await self._listener.close()
        self._lost()

    async def watch(self) -> AsyncGenerator[Change]:
        """`caught_up` first, then every change heard; ends (UNAVAILABLE) when no longer complete."""
        self.start()
        try:
            await asyncio.wait_for(self._live.wait(), _LIVE_WAIT_SECONDS)
        except TimeoutError:
            raise UnavailableError(f"{self._what} are not being heard") from None
        queue: asyncio.Queue[Change | _Ended] = asyncio.Queue(_MAX_BACKLOG)
        self._streams.add(queue)
        try:
            yield self._caught_up
            while True:
                try:
                    change = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    change = self._caught_up
                if isinstance(change, _Ended):
                    raise UnavailableError(f"{self._what} were interrupted")
                yield change
        finally:
            self._streams.discard(queue)

    def _went_live(self) -> None:
        for hearing in self._also:
            hearing.trust()
        self._live.set()

    def _fan_out(self, payload: str) -> None:
        for hearing in self._also:
            hearing.heard(payload)
        change = self._to_change(payload)
        for queue in list(self._streams):
            if change is None:
                # A change no gateway could apply may have changed anything: end every stream.
                self._streams.discard(queue)
                _end(queue)
                continue
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                self._streams.discard(queue)
                _end(queue)

    def _lost(self) -> None:
        for hearing in self._also:
            hearing.distrust()
        self._live.clear()
        for queue in self._streams:
            _end(queue)
        self._streams.clear()


def _end(queue: asyncio.Queue[Change | _Ended]) -> None:
    # A full queue is drained of one change to make room: the stream ends anyway.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(_Ended())
