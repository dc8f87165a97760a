"""One HTTP request on its way through the gateway's stack of wrappers, and how they compose.

On the model of Starlette's middleware stack: each wrapper is built around the next handler
and is itself a handler, so the request path reads as a list (see `build_stack`). What one
wrapper learns (the match, the body, the principal) travels on the exchange, one object per
request with fixed slots, instead of in the ASGI scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import quote

from common.principal import Principal
from services.gateway.routes import Match, Route

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class Exchange:
    __slots__ = (
        "_send",
        "body",
        "cookie_sent",
        "headers",
        "match",
        "method",
        "principal",
        "raw_path",
        "receive",
        "scope",
        "status",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self._send = send
        self.method: str = scope["method"]
        # The path as sent: its segments are percent-decoded once, by the route table.
        self.raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode()
        self.headers: dict[bytes, bytes] = dict(scope["headers"])
        self.match: Match | None = None
        self.body = b""
        self.principal: Principal | None = None
        # The request carried a session cookie (a 401 then clears it).
        self.cookie_sent = False
        # What was answered, for the metrics; 500 until then.
        self.status = 500

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def route(self) -> Route | None:
        return self.match.route if self.match is not None else None

    async def respond(
        self, status: int, body: bytes, extra_headers: Headers | None = None, content_type: bytes = JSON
    ) -> None:
        """Answer, JSON unless told; a HEAD is answered as its GET, headers and all, without the body."""
        self.status = status
        headers = [
            (b"content-type", content_type),
            *_BASE_HEADERS,
            (b"content-length", str(len(body)).encode()),
        ]
        if extra_headers:
            headers.extend(extra_headers)
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": b"" if self.method == "HEAD" else body})


Handler = Callable[[Exchange], Awaitable[None]]
# A wrapper: built around the next handler, it is a handler itself.
Wrapper = Callable[[Handler], Handler]


def build_stack(wrappers: Sequence[Wrapper], endpoint: Handler) -> Handler:
    """`wrappers` around `endpoint`, the first outermost: a request meets them in list order."""
    handler = endpoint
    for wrap in reversed(wrappers):
        handler = wrap(handler)
    return handler
