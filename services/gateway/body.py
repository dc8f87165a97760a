"""The request body: bounded in size and in time, and JSON when there is one."""

from __future__ import annotations

import asyncio
from functools import cache

import grpc
from google.protobuf.descriptor import MethodDescriptor

from central.api.v1 import limits_pb2
from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Handler, Receive


@cache
def route_body_limit(method: MethodDescriptor) -> int | None:
    """The rpc's own `(central.api.v1.max_body_bytes)`, when it declares one."""
    options = method.GetOptions()
    if not options.HasExtension(limits_pb2.max_body_bytes):
        return None
    limit: int = options.Extensions[limits_pb2.max_body_bytes]
    return limit


class ReadBody:
    """Sets `exchange.body`: at most `max_bytes` (or the route's own limit), arrived within
    `timeout` seconds."""

    def __init__(self, app: Handler, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, exchange: Exchange) -> None:
        headers = exchange.headers
        route = exchange.route
        max_bytes = (route_body_limit(route.method) if route else None) or self.max_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise _too_large(max_bytes)
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._receive(exchange.receive, max_bytes)
        except TimeoutError:
            # A body that never ends would hold its connection for ever: answer, then close it.
            raise HttpError(
                408,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"the body did not arrive within {self.timeout:g} seconds",
                "BODY_TIMEOUT",
                [(b"connection", b"close")],
            ) from None
        if body.strip():
            content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
            if content_type != b"application/json":
                raise HttpError(
                    415,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "the body must be application/json",
                    "UNSUPPORTED_MEDIA_TYPE",
                )
        exchange.body = body
        await self.app(exchange)

    async def _receive(self, receive: Receive, max_bytes: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise HttpError(499, grpc.StatusCode.CANCELLED, "client went away", "CLIENT_CLOSED")
            chunk: bytes = event.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            chunks.append(chunk)
            more = event.get("more_body", False)
        return b"".join(chunks)


def _too_large(limit: int) -> HttpError:
    return HttpError(
        413, grpc.StatusCode.RESOURCE_EXHAUSTED, f"the body is larger than {limit} bytes", "BODY_TOO_LARGE"
    )
