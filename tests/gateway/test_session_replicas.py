"""Two gateways, two auth replicas, one PostgreSQL: a revocation reaches the other gateway's cache at
once, and a gateway without its stream of changes trusts no cached session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import httpx

from common.config import Config
from common.container import Container
from common.grpc.server import RunningServer, start_server
from services.auth.server import registrar as auth_registrar
from services.gateway.app import GatewayApp
from services.gateway.server import build_app
from services.gateway.session_cache import SessionCache
from tests.support.actors import COOKIE, PASSWORD, fresh_address, new_tenant, new_user, session_token
from tests.support.stack import Stack, serving


@dataclass
class Gateway:
    http: httpx.AsyncClient
    cache: SessionCache


async def start_auth(stack: Stack, port: int = 0) -> tuple[RunningServer, Container]:
    container = Container.create(stack.config, process="auth")
    server = await start_server(
        f"127.0.0.1:{port}", await auth_registrar(container, clock=stack.clock), container.verifier
    )
    return server, container


async def stop_auth(server: RunningServer, container: Container) -> None:
    await server.stop(grace=0)
    await container.close()


@asynccontextmanager
async def gateway(stack: Stack, auth_port: int) -> AsyncIterator[Gateway]:
    config: Config = stack.config.with_address("auth", replace(stack.config.auth_addr, port=auth_port))
    app: GatewayApp = build_app(Container.create(config), stack.clock)
    async with serving(app, config.trusted_proxies) as url, httpx.AsyncClient(base_url=url) as http:
        cache = app.sessions.cache
        await eventually(lambda: _true(cache.trusted), within=3)
        yield Gateway(http, cache)


async def _true(value: bool) -> bool:
    return value


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> float:
    """Seconds until `check` holds, polled every few milliseconds; fails after `within` seconds."""
    started = time.perf_counter()
    while not await check():
        assert time.perf_counter() - started < within, "not within the time allowed"
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def log_in(stack: Stack, gateway: Gateway, tenant_id: str, email: str) -> dict[str, str]:
    response = await gateway.http.post(
        "/auth/password-login",
        json={"tenantId": tenant_id, "email": email, "password": PASSWORD},
        headers={"x-forwarded-for": fresh_address()},
    )
    assert response.status_code == 200, response.text
    return {"cookie": f"{COOKIE}={session_token(response)}"}


async def status(gateway: Gateway, cookie: dict[str, str]) -> int:
    return (await gateway.http.get("/me", headers=cookie)).status_code


async def cached(gateway: Gateway, cookie: dict[str, str]) -> None:
    """Use the session until the gateway answers it from its cache."""
    assert await status(gateway, cookie) == 200
    hits = gateway.cache.hits
    assert await status(gateway, cookie) == 200
    assert gateway.cache.hits == hits + 1


async def revoke_own(gateway: Gateway, cookie: dict[str, str]) -> None:
    [current] = [
        s for s in (await gateway.http.get("/me/sessions", headers=cookie)).json()["sessions"] if s["current"]
    ]
    response = await gateway.http.delete(f"/me/sessions/{current['sessionId']}", headers=cookie)
    assert response.status_code == 200, response.text


async def test_a_revocation_through_one_gateway_holds_at_once_on_the_other(stack: Stack) -> None:
    auth_1, container_1 = await start_auth(stack)
    auth_2, container_2 = await start_auth(stack)
    try:
        async with gateway(stack, auth_1.port) as gateway_1, gateway(stack, auth_2.port) as gateway_2:
            tenant = await new_tenant(stack)
            user = await new_user(stack, tenant.tenant_id, role="member")
            cookie = await log_in(stack, gateway_1, tenant.tenant_id, user.email)
            await cached(gateway_1, cookie)

            await revoke_own(gateway_2, cookie)
            # Gateway 2 served the revocation: it refuses before anything else could tell it.
            assert await status(gateway_2, cookie) == 401
            # Gateway 1 hears it through auth replica 2's NOTIFY, auth replica 1's stream.
            await eventually(lambda: _refused(gateway_1, cookie), within=1.0)
    finally:
        await stop_auth(auth_1, container_1)
        await stop_auth(auth_2, container_2)


async def _served(gateway: Gateway, cookie: dict[str, str]) -> bool:
    return await status(gateway, cookie) == 200


async def _refused(gateway: Gateway, cookie: dict[str, str]) -> bool:
    return await status(gateway, cookie) == 401


async def test_without_its_stream_a_gateway_validates_every_request(stack: Stack) -> None:
    auth_1, container_1 = await start_auth(stack)
    auth_2, container_2 = await start_auth(stack)
    port_1 = auth_1.port
    try:
        async with gateway(stack, port_1) as gateway_1, gateway(stack, auth_2.port) as gateway_2:
            tenant = await new_tenant(stack)
            user = await new_user(stack, tenant.tenant_id, role="member")
            doomed = await log_in(stack, gateway_1, tenant.tenant_id, user.email)
            alive = await log_in(stack, gateway_1, tenant.tenant_id, user.email)
            await cached(gateway_1, doomed)
            await cached(gateway_1, alive)

            revoked = asyncio.Event()
            served_after_revocation: list[int] = []

            async def hammer() -> None:
                # Every answer to the revoked cookie once it is revoked: never a 200.
                while True:
                    answered = await status(gateway_1, doomed)
                    if revoked.is_set():
                        served_after_revocation.append(answered)
                    await asyncio.sleep(0.002)

            hammering = asyncio.create_task(hammer())
            try:
                await stop_auth(auth_1, container_1)
                await eventually(lambda: _true(not gateway_1.cache.trusted), within=1.0)
                await revoke_own(gateway_2, doomed)
                revoked.set()
                assert await status(gateway_1, doomed) != 200

                # Auth replica 1 comes back: gateway 1 validates through it, and trusts its cache
                # again only once a new stream is caught up, starting empty.
                auth_1, container_1 = await start_auth(stack, port_1)
                misses = gateway_1.cache.misses
                await eventually(lambda: _served(gateway_1, alive), within=5.0)
                assert gateway_1.cache.misses > misses
                await eventually(lambda: _true(gateway_1.cache.trusted), within=3.0)
                assert await status(gateway_1, doomed) == 401
                await cached(gateway_1, alive)
                await asyncio.sleep(0.05)
            finally:
                hammering.cancel()
            assert served_after_revocation and 200 not in served_after_revocation
    finally:
        await stop_auth(auth_1, container_1)
        await stop_auth(auth_2, container_2)
