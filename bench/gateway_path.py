"""`python -m bench.gateway_path`: what the gateway's own code costs a cookie GET /tenants/{id}, part by part.

The real route table and stack of wrappers (services/gateway/app.py) in this process, with a
trusted session cache holding the caller's session and a backend that answers from memory:
no socket, no HTTP server, no gRPC. So the figures are the gateway's Python alone: the whole
stack, then each part of it on its own, first without a metrics SDK (production's default)
and then with OpenTelemetry's (what `make bench` runs gateway 1 with). Compare with the CPU
per request `make bench` reports for the gateway process: the rest is uvicorn, the event loop
and the gRPC client.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from central.tenants.v1 import tenants_pb2
from common.clock import SystemClock
from common.config import Config
from common.grpc.channels import open_channel, principal_metadata
from common.keys import Issuer, SigningKey
from common.lists import CursorResumer
from common.metrics import http_duration, http_requests
from common.principal import Principal, PrincipalKind, PrincipalSigner
from services.gateway.app import GatewayApp
from services.gateway.routes import Route
from services.gateway.security import SessionCookie
from services.gateway.server import route_table
from services.gateway.session_cache import CachedSession, SessionCache, token_key
from services.gateway.session_use import SessionUseLog
from services.gateway.sessions import SessionValidator
from services.gateway.transcode import decode_input, encode_output
from services.tenants.ids import TenantIds

ROUNDS = 20_000
TOKEN = "bench-session-token"


class MemoryBackend:
    def __init__(self, response: Message) -> None:
        self.response = response

    async def call(self, route: Route, request: Message, deadline: float, metadata: Any) -> Message:
        return self.response


def timed(name: str, action: Callable[[], object], rounds: int = ROUNDS) -> None:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            action()
        best = min(best, (time.perf_counter() - started) / rounds)
    print(f"  {name:<58} {best * 1e6:7.1f} µs")


async def main() -> None:
    tenant_id = TenantIds.to_rich_id(uuid4())
    tenant = tenants_pb2.TenantPublic(tenant_id=tenant_id, slug="bench", display_name="Bench")
    tenant.created_at.GetCurrentTime()
    response = tenants_pb2.GetTenantResponse(tenant=tenant)
    routes = route_table()
    signer = PrincipalSigner(SigningKey(Issuer.GATEWAY, Ed25519PrivateKey.generate()))
    clock = SystemClock()
    cache = SessionCache(clock, 10)
    cache.trust()
    now = clock.now()
    session = CachedSession(
        "s", tenant_id, "u", "ROLE_ADMIN", now + timedelta(days=1), timedelta(days=1), now
    )
    cache.put(token_key(TOKEN), session, cache.generation)
    config = Config.from_env({**os.environ, "CENTRAL_HOME": "/nonexistent"})
    app = GatewayApp(
        routes,
        {route.service.full_name: MemoryBackend(response) for route in routes.routes},
        b"{}",
        signer=signer,
        sessions=SessionValidator(
            open_channel("127.0.0.1:9"), signer.to("auth"), 5.0, cache, SessionUseLog(clock)
        ),
        cookie=SessionCookie(config),
        allowed_origins=frozenset(),
        cursors=CursorResumer(),
        rpc_timeout=5.0,
        max_body_bytes=1 << 20,
        body_timeout=10.0,
    )
    path = f"/tenants/{tenant_id}"
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"cookie", f"{config.session_cookie_name}={TOKEN}".encode())],
        "client": ("127.0.0.1", 50000),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def requests(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            await app(dict(scope), receive, send)
        return (time.perf_counter() - started) / count

    match = routes.match("GET", path.encode())
    assert match.route is not None
    route, variables = match.route, match.variables
    principal = Principal(
        PrincipalKind.USER, tenant_id=tenant_id, tenant_user_id="u", role="ROLE_ADMIN", session_id="s"
    )
    tenants_signer = signer.to("tenants")
    cursors = CursorResumer()
    attributes: dict[str, str | int] = {
        "http.route": route.template.template,
        "http.request.method": "GET",
        "http.response.status_code": 200,
    }
    for sdk in (False, True):
        if sdk:
            # What recording costs does not depend on the exporter; this one prints nothing.
            metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
        await requests(500)
        assert set(statuses) == {200}, statuses
        whole = min([await requests(ROUNDS) for _ in range(3)])
        print(f"metrics SDK {'installed' if sdk else 'absent (the default)'}:")
        print(f"  {'whole stack, in-process (no HTTP server, no gRPC)':<58} {whole * 1e6:7.1f} µs")
        timed("route match", lambda: routes.match("GET", path.encode()))
        timed(
            "input decoded (path variables to GetTenantInput)",
            lambda: decode_input(route, variables, [], b"", cursors),
        )
        timed("principal signed for tenants (cached)", lambda: principal_metadata(tenants_signer, principal))
        timed(
            "output encoded (GetTenantResponse to JSON)",
            lambda: encode_output(response, route.gateway_only_fields),
        )
        timed(
            "metrics recorded (request counter and duration histogram)",
            lambda: (http_requests.add(1, attributes), http_duration.record(0.001, attributes)),
        )


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
