"""Which route a request is for: the gateway's own OpenAPI document, or a route of the table."""

from __future__ import annotations

import grpc

from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Handler
from services.gateway.path_template import MalformedPathError
from services.gateway.routes import RouteTable

DOCUMENT_PATH = b"/openapi.json"


class ServeDocument:
    """GET /openapi.json: the document the route table was described by, built once."""

    def __init__(self, app: Handler, document: bytes) -> None:
        self.app = app
        self.document = document

    async def __call__(self, exchange: Exchange) -> None:
        if exchange.raw_path == DOCUMENT_PATH and exchange.method in ("GET", "HEAD"):
            await exchange.respond(200, self.document)
            return
        await self.app(exchange)


class MatchRoute:
    """Sets `exchange.match`; a path no route has is a 404, a method the path lacks a 405."""

    def __init__(self, app: Handler, routes: RouteTable) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, exchange: Exchange) -> None:
        try:
            match = self.routes.match(exchange.method, exchange.raw_path)
        except MalformedPathError as error:
            raise HttpError(400, grpc.StatusCode.INVALID_ARGUMENT, str(error), "INVALID_REQUEST") from None
        if match.route is None:
            raise _no_route(exchange.method, exchange.path, match.allowed)
        exchange.match = match
        await self.app(exchange)


def _no_route(method: str, path: str, allowed: tuple[str, ...]) -> HttpError:
    if allowed:
        return HttpError(
            405,
            grpc.StatusCode.UNIMPLEMENTED,
            f"{method} is not allowed on {path}",
            "METHOD_NOT_ALLOWED",
            [(b"allow", ", ".join(sorted(allowed)).encode())],
        )
    return HttpError(404, grpc.StatusCode.NOT_FOUND, f"no route for {method} {path}", "ROUTE_NOT_FOUND")
