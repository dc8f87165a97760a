"""The gateway as an ASGI application: match a route, transcode, call, answer JSON.

No framework: the route table, derived from the protos, is the router, and the hot path
is a handful of dictionary look-ups around the rpc.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote

import grpc
from google.protobuf.message import Message as ProtoMessage

from common.errors import DomainError
from common.grpc.channels import principal_metadata
from common.lists import Cursors
from common.logs import get_logger
from common.metrics import http_duration, http_requests
from common.principal import Principal, PrincipalKind, PrincipalSigner
from services.gateway import errors
from services.gateway.backends import Backend
from services.gateway.errors import HttpError
from services.gateway.path_template import MalformedPathError
from services.gateway.routes import Route, RouteTable
from services.gateway.security import SessionCookie, is_cross_origin
from services.gateway.sessions import SessionValidator
from services.gateway.transcode import TranscodeError, decode_input, encode_output

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_NO_STORE = (b"cache-control", b"no-store")
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
        signer: PrincipalSigner,
        sessions: SessionValidator,
        cookie: SessionCookie,
        allowed_origins: frozenset[str],
        cursors: Cursors,
        rpc_timeout: float,
        max_body_bytes: int,
        body_timeout: float,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.routes = routes
        self.backends = backends
        self.openapi_document = openapi_document
        self.signer = signer
        self.sessions = sessions
        self.cookie = cookie
        self.allowed_origins = allowed_origins
        self.cursors = cursors
        self.rpc_timeout = rpc_timeout
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.on_shutdown = on_shutdown
        self.logger = get_logger(type(self).__name__)
        missing = {r.service.full_name for r in routes.routes} - set(backends)
        if missing:
            raise ValueError(f"no backend for {', '.join(sorted(missing))}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["method"] == "HEAD":
                send = _without_body(send)
            await self._measured(scope, receive, send)
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

    async def _measured(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        route = await self._http(scope, receive, noting_send)
        attributes = {
            "http.route": route.template.template if route else "unmatched",
            "http.request.method": scope["method"],
            "http.response.status_code": status,
        }
        http_requests.add(1, attributes)
        http_duration.record(time.perf_counter() - started, attributes)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> Route | None:
        method: str = scope["method"]
        path: str = scope["path"]
        # The path as sent: its segments are percent-decoded once, by the route table.
        raw_path: bytes = scope.get("raw_path") or quote(path).encode()
        route: Route | None = None
        cookie_sent = False
        try:
            if raw_path == b"/openapi.json" and method in ("GET", "HEAD"):
                await _respond(send, 200, self.openapi_document)
                return None
            try:
                route, variables_or_allowed = self.routes.match(method, raw_path)
            except MalformedPathError as error:
                raise HttpError(
                    400, grpc.StatusCode.INVALID_ARGUMENT, str(error), "INVALID_REQUEST"
                ) from None
            if route is None:
                assert isinstance(variables_or_allowed, list)
                raise _no_route(method, path, variables_or_allowed)
            assert isinstance(variables_or_allowed, dict)
            headers = dict(scope["headers"])
            if is_cross_origin(method, headers, self.allowed_origins):
                raise HttpError(
                    403,
                    grpc.StatusCode.PERMISSION_DENIED,
                    "cross-origin request refused",
                    "CROSS_ORIGIN_REQUEST",
                )
            body = await self._read_body(headers, receive)
            # Who is calling comes first: a request without a valid session learns nothing more.
            token = None if route.is_public else self.cookie.read(headers.get(b"cookie"))
            cookie_sent = token is not None
            principal = await self._principal(route, token, scope, headers)
            try:
                request = decode_input(route, variables_or_allowed, _query(scope), body, self.cursors)
            except TranscodeError as error:
                raise HttpError(
                    400, grpc.StatusCode.INVALID_ARGUMENT, str(error), "INVALID_REQUEST"
                ) from None
            response = await self.backends[route.service.full_name].call(
                route, request, self.rpc_timeout, principal_metadata(self.signer, principal)
            )
            await self._respond_ok(send, route, response)
        except HttpError as error:
            await _respond(
                send,
                error.http_status,
                error.body(),
                [*error.headers, *self._error_headers(route, error.http_status, cookie_sent)],
            )
        except grpc.aio.AioRpcError as error:
            hidden_prefix = route.hidden_field_prefix if route is not None else ""
            status, payload, error_headers = errors.from_rpc_error(error, hidden_prefix)
            if status >= 500:
                self.logger.warning("%s %s: %s %s", method, path, error.code().name, error.details())
            await _respond(
                send, status, payload, [*error_headers, *self._error_headers(route, status, cookie_sent)]
            )
        except DomainError as error:
            await _respond(send, *errors.from_domain_error(error))
        except Exception:
            self.logger.exception("%s %s failed", method, path)
            await _respond(send, *errors.internal_error())
        return route

    async def _principal(
        self, route: Route, token: str | None, scope: Scope, headers: dict[bytes, bytes]
    ) -> Principal:
        client = scope.get("client")
        anonymous = Principal(
            PrincipalKind.ANONYMOUS,
            client_address=client[0] if client else "",
            user_agent=headers.get(b"user-agent", b"").decode("latin-1")[:512],
        )
        if route.is_public:
            return anonymous
        principal = await self.sessions.principal(token, anonymous) if token else None
        if principal is not None:
            return principal
        if route.security_optional:
            return anonymous
        raise HttpError(401, grpc.StatusCode.UNAUTHENTICATED, "sign in first", "SESSION_REQUIRED")

    async def _respond_ok(self, send: Send, route: Route, response: ProtoMessage) -> None:
        extra: list[tuple[bytes, bytes]] = []
        if route.session_token_field is not None:
            new_token = getattr(response, route.session_token_field.name)
            if new_token:
                extra.append((b"set-cookie", self.cookie.set(new_token)))
        if route.ends_session_field is not None and getattr(response, route.ends_session_field.name):
            extra.append((b"set-cookie", self.cookie.clear()))
        if not route.is_public or extra:
            extra.append(_NO_STORE)
        await _respond(send, 200, encode_output(response, route.gateway_only_fields), extra)

    def _error_headers(
        self, route: Route | None, status: int, cookie_sent: bool
    ) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = []
        if route is not None and not route.is_public:
            headers.append(_NO_STORE)
        if status == 401 and cookie_sent:
            # The browser holds a session that no longer works: drop it.
            headers.append((b"set-cookie", self.cookie.clear()))
        return headers

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._receive_body(receive)
        except TimeoutError:
            # A body that never ends would hold its connection for ever: answer, then close it.
            raise HttpError(
                408,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"the body did not arrive within {self.body_timeout:g} seconds",
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
        return body

    async def _receive_body(self, receive: Receive) -> bytes:
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
        return b"".join(chunks)


def _without_body(send: Send) -> Send:
    """A HEAD is answered as its GET, headers and all, without the body (RFC 9110)."""

    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only


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


def _no_route(method: str, path: str, allowed: list[str]) -> HttpError:
    if allowed:
        return HttpError(
            405,
            grpc.StatusCode.UNIMPLEMENTED,
            f"{method} is not allowed on {path}",
            "METHOD_NOT_ALLOWED",
            [(b"allow", ", ".join(sorted(allowed)).encode())],
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
