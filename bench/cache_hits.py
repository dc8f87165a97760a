"""The gateway's session cache and tenant rows lookups, from the line it logs when it stops."""

from __future__ import annotations

import re
from pathlib import Path

# Written by services/gateway/server.py as it stops.
_LINES = {
    "session cache": re.compile(rb"session cache: (\d+) hits, (\d+) misses"),
    "tenant rows": re.compile(rb"tenant rows: (\d+) hits, (\d+) misses"),
}


def cache_lookups(gateway_log: Path, cache: str) -> tuple[int, int] | None:
    """(hits, misses) of `cache` over the gateway's life; None when it did not say (no clean stop)."""
    found = _LINES[cache].findall(gateway_log.read_bytes())
    if not found:
        return None
    hits, misses = found[-1]
    return int(hits), int(misses)
