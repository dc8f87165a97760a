"""The media worker's own settings, read from the environment as common/config.py reads the rest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

CONCURRENCY = "CENTRAL_MEDIA_CONCURRENCY"
DEFAULT_CONCURRENCY = 2


@dataclass(frozen=True, slots=True)
class MediaSettings:
    # Jobs (activities) one media worker runs at once: recognition is CPU-bound, so about its
    # cores; more jobs wait in the queue instead of slowing every running one down.
    concurrency: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MediaSettings:
        env = os.environ if env is None else env
        raw = env.get(CONCURRENCY, "").strip()
        try:
            concurrency = int(raw) if raw else DEFAULT_CONCURRENCY
        except ValueError:
            raise ValueError(f"{CONCURRENCY} must be a whole number, not {raw!r}") from None
        if concurrency < 1:
            raise ValueError(f"{CONCURRENCY} must be at least 1")
        return cls(concurrency)
