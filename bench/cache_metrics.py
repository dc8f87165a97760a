"""The gateway's session cache hit ratio, read from its OpenTelemetry console export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

METRIC = "central.gateway.session_cache.lookups"


def hit_ratio(console_output: Path) -> tuple[int, int] | None:
    """(hits, misses) in the last export that has them; None when there is none."""
    text = console_output.read_text(errors="replace")
    decoder = json.JSONDecoder()
    found: tuple[int, int] | None = None
    position = text.find("{")
    while position != -1:
        try:
            document, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find("{", position + 1)
            continue
        found = _lookups(document) or found
        position = text.find("{", end)
    return found


def _lookups(document: Any) -> tuple[int, int] | None:
    for resource in document.get("resource_metrics", []) if isinstance(document, dict) else []:
        for scope in resource.get("scope_metrics", []):
            for metric in scope.get("metrics", []):
                if metric.get("name") == METRIC:
                    values = {
                        point["attributes"].get("result"): int(point["value"])
                        for point in metric["data"]["data_points"]
                    }
                    return values.get("hit", 0), values.get("miss", 0)
    return None
