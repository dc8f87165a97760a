"""How every long-running process learns that it should stop."""

from __future__ import annotations

import asyncio
import signal


def stop_signalled() -> asyncio.Event:
    """An event that SIGTERM or SIGINT sets, from now on, instead of ending the process.

    Call it first, before listening or connecting: a signal that comes earlier ends the
    process with -15 instead of a clean stop.
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    return stopping
