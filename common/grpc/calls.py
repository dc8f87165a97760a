"""The one reading of NOT_FOUND on a call made for its effect: the thing is not there, or already gone."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc


async def found(call: Awaitable[Any]) -> bool:
    """True when the rpc succeeded, False when it answered NOT_FOUND; any other failure raises.

    A delete that finds nothing has nothing left to do (a retried compensation, a cleanup that
    raced another), and a lookup that finds nothing is a plain no.
    """
    try:
        await call
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True
