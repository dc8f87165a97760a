"""`central openapi`: the gateway's OpenAPI document from the route table, without a server.

The TypeScript client is generated from it (`make generate`), and `make lint` regenerates it
to catch a client that drifted from the protos.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from common.config import Config
from services.gateway.server import openapi_document, route_table


async def write_document(config: Config, output: str | None) -> int:
    document = openapi_document(route_table(), config.session_cookie_name)
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.flush()
    else:
        await asyncio.to_thread(_write, Path(output), document)
    return 0


def _write(path: Path, document: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(document)
