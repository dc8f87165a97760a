"""`central serve gateway`: the REST gateway on uvicorn.

uvicorn, with uvloop and httptools, is the most widely deployed ASGI server, kept by the
Encode team; it handles keep-alive, back-pressure and graceful shutdown on SIGTERM.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import orjson
import uvicorn

from common.clock import Clock, SystemClock
from common.container import Container
from common.grpc.channels import open_stream_channel
from common.lists import CursorResumer
from common.logs import get_logger
from common.metrics import observe_session_cache
from common.signals import stop_signals_to
from services.gateway import meta
from services.gateway.app import GatewayApp
from services.gateway.backends import Backend, GrpcBackend
from services.gateway.openapi import build_document
from services.gateway.routes import RouteTable
from services.gateway.security import SessionCookie
from services.gateway.session_keeping import SessionKeeping
from services.gateway.static import load_page
from services.gateway.tenant_rows import TenantRowKeeping
from services.gateway.upstreams import SESSIONS, TENANTS, audiences, routed_services, upstream_services


def route_table() -> RouteTable:
    """Every route the gateway serves: its own meta routes, then every routed service's."""
    return RouteTable.from_services([meta.SERVICE, *routed_services()])


def openapi_document(routes: RouteTable, cookie_name: str) -> bytes:
    """The document `/openapi.json` serves and `central openapi` writes, byte for byte."""
    document = build_document(routes, version("central"), cookie_name)
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def build_app(container: Container, clock: Clock | None = None) -> GatewayApp:
    upstreams = upstream_services(container.config)
    channels = {service.full_name: container.channel(str(address)) for service, address in upstreams}
    backends: dict[str, Backend] = {name: GrpcBackend(channel) for name, channel in channels.items()}
    backends[meta.SERVICE.full_name] = meta.MetaApi(channels).backend()
    routes = route_table()
    document = openapi_document(routes, container.config.session_cookie_name)
    config = container.config
    addresses = {service.full_name: str(address) for service, address in upstreams}
    # The gateway holds its own signing key and nothing else: not the services' secret, nor the system's key.
    signer = container.gateway_signer
    sessions = SessionKeeping.build(
        channels[SESSIONS.full_name],
        open_stream_channel(addresses[SESSIONS.full_name], transport=container.transport),
        signer.to(audiences()[SESSIONS.full_name]),
        clock or SystemClock(),
        config.rpc_timeout_seconds,
    )
    tenant_rows = TenantRowKeeping.build(
        routes.routes,
        open_stream_channel(addresses[TENANTS.full_name], transport=container.transport),
        signer.to(audiences()[TENANTS.full_name]),
    )

    def start() -> None:
        sessions.start()
        tenant_rows.start()

    async def shut_down() -> None:
        await sessions.close()
        await tenant_rows.close()
        await container.close()

    return GatewayApp(
        routes,
        backends,
        document,
        signer=signer,
        sessions=sessions.validator,
        cookie=SessionCookie(config),
        allowed_origins=config.allowed_origins,
        cursors=CursorResumer(),
        rpc_timeout=config.rpc_timeout_seconds,
        max_body_bytes=config.max_body_bytes,
        body_timeout=config.body_timeout_seconds,
        on_startup=start,
        on_shutdown=shut_down,
        page=load_page(),
        tenant_rows=tenant_rows.answers,
    )


def uvicorn_config(app: Any, host: str, port: int, trusted_proxies: tuple[str, ...] = ()) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # Forwarding headers only from the proxies an operator named (CENTRAL_TRUSTED_PROXIES);
        # uvicorn's default would believe any loopback caller.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


async def serve(container: Container) -> None:
    address = container.config.gateway_addr
    app = build_app(container)
    cache = app.sessions.cache
    observe_session_cache(lambda: (cache.hits, cache.misses))
    assert app.tenant_rows is not None
    rows = app.tenant_rows.rows
    logger = get_logger("gateway")
    logger.info("serving %d routes on http://%s", len(app.routes.routes), address)
    asgi = container.telemetry.wrap_asgi(app)
    config = uvicorn_config(asgi, address.host, address.port, container.config.trusted_proxies)
    server = uvicorn.Server(config)
    stop_signals_to(server.handle_exit)
    await server.serve()
    logger.info(
        "stopped; session cache: %d hits, %d misses; tenant rows: %d hits, %d misses",
        *(cache.hits, cache.misses, rows.hits, rows.misses),
    )
