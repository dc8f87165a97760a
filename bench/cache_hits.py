"""The gateway's session cache lookups, from the line it logs when it stops."""

from __future__ import annotations

import re
from pathlib import Path

# Written by services/gateway/server.py as it stops.
_LINE = re.compile(rb"session cache: (\d+) hits, (\d+) misses")


def session_cache_lookups(gateway_log: Path) -> tuple[int, int] | None:
    """(hits, misses) over the gateway's life; None when it did not say (it did not stop cleanly)."""
    found = _LINE.findall(gateway_log.read_bytes())
    if not found:
        return None
    hits, misses = found[-1]
    return int(hits), int(misses)
