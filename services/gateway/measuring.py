"""The outermost wrapper: every request counted and timed, by route template."""

from __future__ import annotations

import time

from common.metrics import http_duration, http_requests
from services.gateway.exchange import Exchange, Handler


class Measure:
    def __init__(self, app: Handler) -> None:
        self.app = app

    async def __call__(self, exchange: Exchange) -> None:
        started = time.perf_counter()
        try:
            await self.app(exchange)
        finally:
            route = exchange.route
            attributes: dict[str, str | int] = {
                "http.route": route.template.template if route is not None else "unmatched",
                "http.request.method": exchange.method,
                "http.response.status_code": exchange.status,
            }
            http_requests.add(1, attributes)
            http_duration.record(time.perf_counter() - started, attributes)
