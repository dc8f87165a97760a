"""The media worker's own settings, read from the environment as common/config.py reads the rest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

CONCURRENCY = "CENTRAL_MEDIA_CONCURRENCY"
DEFAULT_CONCURRENCY = 2
HEARTBEAT_SECONDS = "CENTRAL_MEDIA_HEARTBEAT_SECONDS"
DEFAULT_HEARTBEAT_SECONDS = 20


@dataclass(frozen=True, slots=True)
class MediaSettings:
    # Jobs (activities) one media worker runs at once: recognition is CPU-bound, so about its
    # cores; more jobs wait in the queue instead of slowing every running one down.
    concurrency: int
    # How long a recognition may go without a heartbeat before Temporal gives it to another
    # worker: the delay before a killed worker's job resumes elsewhere.
    heartbeat_timeout: timedelta = timedelta(seconds=DEFAULT_HEARTBEAT_SECONDS)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MediaSettings:
        env = os.environ if env is None else env
        return cls(
            _at_least_one(env, CONCURRENCY, DEFAULT_CONCURRENCY),
            timedelta(seconds=_at_least_one(env, HEARTBEAT_SECONDS, DEFAULT_HEARTBEAT_SECONDS)),
        )


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value
