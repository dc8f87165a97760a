"""What is left of the deadline of the rpc being served, for the calls it makes in turn."""

from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("central_deadline", default=None)


def set_deadline(seconds_left: float | None) -> None:
    _deadline.set(None if seconds_left is None else time.monotonic() + seconds_left)


def bounded(timeout: float | None) -> float | None:
    """`timeout`, cut down to what is left of the current rpc's deadline, if there is one."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = max(0.0, deadline - time.monotonic())
    return left if timeout is None else min(timeout, left)
