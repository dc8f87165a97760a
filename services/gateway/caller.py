"""Who is calling: the session cookie, validated by the auth service, as the principal of the rpc."""

from __future__ import annotations

import grpc

from common.principal import Principal, PrincipalKind
from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Handler
from services.gateway.security import SessionCookie
from services.gateway.sessions import SessionValidator


class ResolvePrincipal:
    """Sets `exchange.principal`: the session's tenant user, or the anonymous caller where allowed.

    It runs before the input is decoded: a request without a valid session learns nothing more.
    """

    def __init__(self, app: Handler, cookie: SessionCookie, sessions: SessionValidator) -> None:
        self.app = app
        self.cookie = cookie
        self.sessions = sessions

    async def __call__(self, exchange: Exchange) -> None:
        route = exchange.route
        assert route is not None
        client = exchange.scope.get("client")
        anonymous = Principal(
            PrincipalKind.ANONYMOUS,
            client_address=client[0] if client else "",
            user_agent=exchange.headers.get(b"user-agent", b"").decode("latin-1")[:512],
        )
        if route.is_public:
            exchange.principal = anonymous
        else:
            token = self.cookie.read(exchange.headers.get(b"cookie"))
            exchange.cookie_sent = token is not None
            principal = await self.sessions.principal(token, anonymous) if token else None
            if principal is None and not route.security_optional:
                raise HttpError(401, grpc.StatusCode.UNAUTHENTICATED, "sign in first", "SESSION_REQUIRED")
            exchange.principal = principal or anonymous
        await self.app(exchange)
