"""The gateway as an ASGI application: a stack of small wrappers around the rpc call.

No framework: the route table, derived from the protos, is the router. A request meets, in
order: the metrics, the error rendering, the OpenAPI document, the sign-in page, the route
match, the cross-origin check, the body, the principal, and the rpc call (see `GatewayApp.__init__`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from common.lists import CursorResumer
from common.principal import PrincipalSigner
from services.gateway.backends import Backend
from services.gateway.body import ReadBody
from services.gateway.call import CallRpc
from services.gateway.caller import ResolvePrincipal
from services.gateway.exchange import Exchange, Receive, Scope, Send, build_stack
from services.gateway.matching import MatchRoute, ServeDocument
from services.gateway.measuring import Measure
from services.gateway.rendering import RenderErrors
from services.gateway.routes import RouteTable
from services.gateway.security import RefuseCrossOrigin, SessionCookie
from services.gateway.sessions import SessionValidator
from services.gateway.static import ServeStatic, StaticFile
from services.gateway.tenant_rows import TenantRowAnswers


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
        cursors: CursorResumer,
        rpc_timeout: float,
        max_body_bytes: int,
        body_timeout: float,
        on_startup: Callable[[], None] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        page: dict[bytes, StaticFile] | None = None,
        tenant_rows: TenantRowAnswers | None = None,
    ) -> None:
        missing = {r.service.full_name for r in routes.routes} - set(backends)
        if missing:
            raise ValueError(f"no backend for {', '.join(sorted(missing))}")
        self.routes = routes
        self.sessions = sessions
        self.tenant_rows = tenant_rows
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.handle = build_stack(
            [
                Measure,
                partial(RenderErrors, cookie=cookie),
                partial(ServeDocument, document=openapi_document),
                partial(ServeStatic, files=page or {}),
                partial(MatchRoute, routes=routes),
                partial(RefuseCrossOrigin, allowed_origins=allowed_origins),
                partial(ReadBody, max_bytes=max_body_bytes, timeout=body_timeout),
                partial(ResolvePrincipal, cookie=cookie, sessions=sessions),
            ],
            CallRpc(
                backends,
                signer=signer,
                cookie=cookie,
                cursors=cursors,
                rpc_timeout=rpc_timeout,
                after_call=sessions.after_call,
                tenant_rows=tenant_rows,
            ),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(Exchange(scope, receive, send))
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                if self.on_startup is not None:
                    self.on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
