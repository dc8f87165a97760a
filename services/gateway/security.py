"""Browser-facing security: the session cookie and cross-origin request protection."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import grpc

from common.config import Config
from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Handler

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a caller's own data is answered with: no cache keeps it.
NO_STORE = (b"cache-control", b"no-store")


class SessionCookie:
    def __init__(self, config: Config) -> None:
        self.name = config.session_cookie_name
        self._name_bytes = self.name.encode()
        self._max_age = config.session_ttl_seconds

    def read(self, cookie_header: bytes | None) -> str | None:
        if not cookie_header:
            return None
        for part in cookie_header.split(b";"):
            name, sep, value = part.strip().partition(b"=")
            if sep and name == self._name_bytes and value:
                return value.decode("ascii", errors="replace")
        return None

    def set(self, token: str) -> bytes:
        # __Host- cookies must be Secure, Path=/ and carry no Domain.
        return (
            f"{self.name}={token}; Max-Age={self._max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"
        ).encode()

    def clear(self) -> bytes:
        return f"{self.name}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax".encode()


class PreLoginCookie(SessionCookie):
    """Binds a single sign-on flow to the browser that started it, for the flow's 10 minutes."""

    NAME = "__Host-central-prelogin"
    MAX_AGE_SECONDS = 600

    def __init__(self) -> None:
        self.name = self.NAME
        self._name_bytes = self.name.encode()
        self._max_age = self.MAX_AGE_SECONDS


def is_cross_origin(method: str, headers: Mapping[bytes, bytes], allowed_origins: frozenset[str]) -> bool:
    """True for a browser's cross-origin unsafe request, on the model of Go's CrossOriginProtection.

    Safe methods pass. An allowed Origin passes. Sec-Fetch-Site, when the browser sends it,
    decides (same-origin or none pass). Otherwise an Origin must match the Host; a request
    with neither header comes from no browser and passes.
    """
    if method not in UNSAFE_METHODS:
        return False
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin and origin in allowed_origins:
        return False
    fetch_site = headers.get(b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in (b"same-origin", b"none")
    if not origin:
        return False
    host = headers.get(b"host", b"").decode("latin-1")
    return urlsplit(origin).netloc != host


class RefuseCrossOrigin:
    """A browser's cross-origin unsafe request is a 403 before anything else is read."""

    def __init__(self, app: Handler, allowed_origins: frozenset[str]) -> None:
        self.app = app
        self.allowed_origins = allowed_origins

    async def __call__(self, exchange: Exchange) -> None:
        if is_cross_origin(exchange.method, exchange.headers, self.allowed_origins):
            raise HttpError(
                403, grpc.StatusCode.PERMISSION_DENIED, "cross-origin request refused", "CROSS_ORIGIN_REQUEST"
            )
        await self.app(exchange)
