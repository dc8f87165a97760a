"""The request body: bounded in size and in time, and JSON when there is one."""

from __future__ import annotations

import asyncio

import grpc

from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Handler, Receive


class ReadBody:
    """Sets `exchange.body`: at most `max_bytes`, arrived within `timeout` seconds."""

    def __init__(self, app: Handler, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, exchange: Exchange) -> None:
        headers = exchange.headers
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            raise _too_large(self.max_bytes)
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._receive(exchange.receive)
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

    async def _receive(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise HttpError(499, grpc.StatusCode.CANCELLED, "client went away", "CLIENT_CLOSED")
            chunk: bytes = event.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _too_large(self.max_bytes)
            chunks.append(chunk)
            more = event.get("more_body", False)
        return b"".join(chunks)


def _too_large(limit: int) -> HttpError:
    return HttpError(
        413, grpc.StatusCode.RESOURCE_EXHAUSTED, f"the body is larger than {limit} bytes", "BODY_TOO_LARGE"
    )
