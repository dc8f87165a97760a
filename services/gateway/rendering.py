"""The wrapper under the metrics: every failure below it answered in the AIP-193 shape."""

from __future__ import annotations

import grpc

from common.errors import DomainError
from common.logs import get_logger
from services.gateway.errors import HttpError, from_domain_error, from_rpc_error, internal_error
from services.gateway.exchange import Exchange, Handler, Headers
from services.gateway.security import NO_STORE, SessionCookie


class RenderErrors:
    """Nothing escapes to the server: the gateway's own errors, the rpc's, and the unexpected (a 500)."""

    def __init__(self, app: Handler, cookie: SessionCookie) -> None:
        self.app = app
        self.cookie = cookie
        self.logger = get_logger("gateway")

    async def __call__(self, exchange: Exchange) -> None:
        try:
            await self.app(exchange)
        except HttpError as error:
            status = error.http_status
            await exchange.respond(status, error.body(), [*error.headers, *self._headers(exchange, status)])
        except grpc.aio.AioRpcError as error:
            route = exchange.route
            status, payload, headers = from_rpc_error(error, route.hidden_field_prefix if route else "")
            if status >= 500:
                self.logger.warning(
                    "%s %s: %s %s", exchange.method, exchange.path, error.code().name, error.details()
                )
            await exchange.respond(status, payload, [*headers, *self._headers(exchange, status)])
        except DomainError as error:
            await exchange.respond(*from_domain_error(error))
        except Exception:
            self.logger.exception("%s %s failed", exchange.method, exchange.path)
            await exchange.respond(*internal_error())

    def _headers(self, exchange: Exchange, status: int) -> Headers:
        headers: Headers = []
        route = exchange.route
        if route is not None and not route.is_public:
            headers.append(NO_STORE)
        if status == 401 and exchange.cookie_sent:
            # The browser holds a session that no longer works: drop it.
            headers.append((b"set-cookie", self.cookie.clear()))
        return headers
