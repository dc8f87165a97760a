"""Stop signals reach a server's own exit handler even before the server runs."""

from __future__ import annotations

import signal
from types import FrameType

from common.signals import STOP_SIGNALS, stop_signals_to


def test_a_stop_signal_starts_the_servers_shutdown_instead_of_vanishing() -> None:
    caught: list[int] = []

    def handle_exit(sig: int, frame: FrameType | None) -> None:
        caught.append(sig)

    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        stop_signals_to(handle_exit)
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert caught == [signal.SIGTERM, signal.SIGINT]
