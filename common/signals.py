"""How every long-running process learns that it should stop: SIGTERM or SIGINT, handled here only."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_signalled() -> asyncio.Event:
    """An event that SIGTERM or SIGINT sets, from now on, instead of ending the process.

    Call it first, before listening or connecting: a signal that comes earlier ends the
    process with -15 instead of a clean stop.
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    return stopping


def stop_signals_to(handle_exit: Callable[[int, FrameType | None], None]) -> None:
    """Hand SIGTERM and SIGINT to a server's own `handle_exit` (uvicorn's), from now on.

    A server that installs its handlers only once it runs would miss a signal that comes
    before; this one starts its shutdown all the same. The server puts this handler back when
    it stops and raises the signals it caught again: `handle_exit` of a stopped server does
    nothing more, so the process exits 0 like every other one.
    """
    for sig in STOP_SIGNALS:
        signal.signal(sig, handle_exit)
