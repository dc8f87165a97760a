"""The gateway as an ASGI application: match a route, transcode, call, answer JSON.

No framework: the route table, derived from the protos, is the router, and the hot path
is a handful of dictionary look-ups around the rpc.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import grpc

from common.errors import DomainError
from common.logs import get_logger
from services.gateway import errors
from services.gateway.backends import Backend
from services.gateway.errors import HttpError
from services.gateway.routes import Route, RouteTable
from services.gateway.transcode import TranscodeError, decode_input, encode_output

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_BASE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class GatewayApp:
    def __init__(
        self,
        routes: RouteTable,
        backends: dict[str, Backend],
        openapi_document: bytes,
        *,
        rpc_timeout: float,
        max_body_bytes: int,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.routes = routes
        self.backends = backends
        self.openapi_document = openapi_document
        self.rpc_timeout = rpc_timeout
        self.max_body_bytes = max_body_bytes
        self.on_shutdown = on_shutdown
        self.logger = get_logger(type(self).__name__)
        missing = {r.service.full_name for r in routes.routes} - set(backends)
        if missing:
            raise ValueError(f"no backend for {', '.join(sorted(missing))}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        try:
            if path == "/openapi.json" and method in ("GET", "HEAD"):
                await _respond(send, 200, self.openapi_document)
                return
            route, variables_or_exists = self.routes.match(method, path)
            if route is None:
                raise _no_route(method, path, bool(variables_or_exists))
            assert isinstance(variables_or_exists, dict)
            body = await self._read_body(scope, receive, route)
            try:
                request = decode_input(route, variables_or_exists, _query(scope), body)
            except TranscodeError as error:
                raise HttpError(
                    400, grpc.StatusCode.INVALID_ARGUMENT, str(error), "INVALID_REQUEST"
                ) from None
            response = await self.backends[route.service.full_name].call(route, request, self.rpc_timeout)
            await _respond(send, 200, encode_output(response))
        except HttpError as error:
            await _respond(send, error.http_status, error.body(), error.headers)
        except grpc.aio.AioRpcError as error:
            status, payload = errors.from_rpc_error(error)
            if status >= 500:
                self.logger.warning("%s %s: %s %s", method, path, error.code().name, error.details())
            await _respond(send, status, payload)
        except DomainError as error:
            await _respond(send, *errors.from_domain_error(error))
        except Exception:
            self.logger.exception("%s %s failed", method, path)
            await _respond(send, *errors.internal_error())

    async def _read_body(self, scope: Scope, receive: Receive, route: Route) -> bytes:
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise HttpError(499, grpc.StatusCode.CANCELLED, "client went away", "CLIENT_CLOSED")
            chunk: bytes = event.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            chunks.append(chunk)
            more = event.get("more_body", False)
        body = b"".join(chunks)
        if body.strip():
            content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
            if content_type != b"application/json":
                raise HttpError(
                    415,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "the body must be application/json",
                    "UNSUPPORTED_MEDIA_TYPE",
                )
        return body


def _query(scope: Scope) -> list[tuple[str, str]]:
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return []
    try:
        return parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(
            400, grpc.StatusCode.INVALID_ARGUMENT, "malformed query string", "INVALID_REQUEST"
        ) from None


def _no_route(method: str, path: str, path_exists: bool) -> HttpError:
    if path_exists:
        return HttpError(
            405, grpc.StatusCode.UNIMPLEMENTED, f"{method} is not allowed on {path}", "METHOD_NOT_ALLOWED"
        )
    return HttpError(404, grpc.StatusCode.NOT_FOUND, f"no route for {method} {path}", "ROUTE_NOT_FOUND")


def _too_large(limit: int) -> HttpError:
    return HttpError(
        413, grpc.StatusCode.RESOURCE_EXHAUSTED, f"the body is larger than {limit} bytes", "BODY_TOO_LARGE"
    )


async def _respond(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [*_BASE_HEADERS, (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
