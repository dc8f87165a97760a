"""`central temporal decode`: a Temporal history (or any JSON) on standard input, with every payload
Central's codec sealed opened, on standard output. For operators entitled to read histories:

    temporal workflow show --workflow-id signup-acme --output json | central temporal decode
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

from temporalio.api.common.v1 import Payload

from common.config import Config
from common.temporal.codec import ENCODING, EncryptingCodec

_SEALED = base64.b64encode(ENCODING).decode()


def _readable(payload: Payload) -> dict[str, Any]:
    metadata = {key: value.decode(errors="replace") for key, value in payload.metadata.items()}
    data: Any = payload.data.decode(errors="replace")
    if metadata.get("encoding") == "json/plain":
        data = json.loads(data)
    return {"metadata": metadata, "data": data}


def _open(node: Any, codec: EncryptingCodec) -> Any:
    if isinstance(node, list):
        return [_open(item, codec) for item in node]
    if not isinstance(node, dict):
        return node
    metadata = node.get("metadata")
    if isinstance(metadata, dict) and metadata.get("encoding") == _SEALED:
        sealed = Payload(
            metadata={key: base64.b64decode(value) for key, value in metadata.items()},
            data=base64.b64decode(node.get("data", "")),
        )
        return _readable(codec.open(sealed))
    return {key: _open(value, codec) for key, value in node.items()}


async def decode(config: Config) -> int:
    document = json.load(sys.stdin)
    json.dump(_open(document, EncryptingCodec.load(config)), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
