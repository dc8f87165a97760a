"""The gateway's tenant rows against the rpc they stand in for: the same answers, a change through
another gateway and another tenants replica seen within milliseconds, and no row trusted without
the stream (503 when tenants is down, never a stale row)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import httpx
import pytest

from common.container import Container
from common.grpc.server import RunningServer, start_server
from common.tenant_rows import TenantRows
from services.gateway.app import GatewayApp
from services.gateway.server import build_app
from services.gateway.tenant_rows import TenantRowKeeping
from services.tenants.server import registrar as tenants_registrar
from tests.gateway.test_session_replicas import _true, eventually
from tests.support.actors import Actor, new_tenant, signed_in
from tests.support.stack import Stack, serving


@dataclass
class Gateway:
    http: httpx.AsyncClient
    rows: TenantRows[str]


async def start_tenants(stack: Stack, port: int = 0) -> tuple[RunningServer, Container]:
    container = Container.create(stack.config, process="tenants")
    server = await start_server(f"127.0.0.1:{port}", await tenants_registrar(container), container.verifier)
    return server, container


async def stop_tenants(server: RunningServer, container: Container) -> None:
    await server.stop(grace=0)
    await container.close()


@asynccontextmanager
async def gateway(stack: Stack, tenants_port: int) -> AsyncIterator[Gateway]:
    config = stack.config.with_address("tenants", replace(stack.config.tenants_addr, port=tenants_port))
    app: GatewayApp = build_app(Container.create(config), stack.clock)
    assert app.tenant_rows is not None
    rows = app.tenant_rows.rows
    async with serving(app, config.trusted_proxies) as url, httpx.AsyncClient(base_url=url) as http:
        await eventually(lambda: _true(rows.trusted), within=3)
        yield Gateway(http, rows)


async def display_name(gateway: Gateway, actor: Actor) -> str:
    response = await gateway.http.get(f"/tenants/{actor.tenant_id}", headers=actor.cookie)
    assert response.status_code == 200, response.text
    name: str = response.json()["tenant"]["displayName"]
    return name


def requests(member: Actor, other: Actor) -> list[tuple[str, dict[str, str]]]:
    nowhere = "tenant-01JD00000000000000000000ZZ"
    return [
        (f"/tenants/{member.tenant_id}", member.cookie),
        (f"/tenants/{other.tenant_id}", member.cookie),
        ("/tenants/not-a-tenant", member.cookie),
        (f"/tenants/{nowhere}", member.cookie),
        (f"/tenants/{member.tenant_id}", {}),
        (f"/tenants/by-slug/{member.tenant.slug}", {}),
        (f"/tenants/by-slug/{member.tenant.slug}", member.cookie),
        (f"/tenants/by-slug/{other.tenant.slug}", member.cookie),
        ("/tenants/by-slug/no-such-slug", {}),
        ("/tenants/by-slug/Not%20A%20Slug", {}),
    ]


_HEADERS = ("content-type", "content-length", "cache-control", "set-cookie", "retry-after")


def seen(response: httpx.Response) -> tuple[int, list[tuple[str, str | None]], bytes]:
    return response.status_code, [(h, response.headers.get(h)) for h in _HEADERS], response.content


async def test_the_rows_answer_exactly_what_the_rpc_answers(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    member, other = await signed_in(stack, "member"), await signed_in(stack, "member")
    table = requests(member, other)
    async with gateway(stack, stack.config.tenants_addr.port) as cached:
        # Every row the table names is in the cache: the member's, the other tenant's (public by slug).
        for path, cookie in table * 2:
            await cached.http.get(path, headers=cookie)
        answers, hit = [], []
        for path, cookie in table:
            hits = cached.rows.hits
            answers.append(seen(await cached.http.get(path, headers=cookie)))
            hit.append(cached.rows.hits > hits)
    # The reference: a gateway that never follows tenant changes, so every request is the rpc's.
    monkeypatch.setattr(TenantRowKeeping, "start", lambda self: None)
    async with gateway_without_rows(stack) as http:
        for (path, cookie), answer in zip(table, answers, strict=True):
            assert seen(await http.get(path, headers=cookie)) == answer, path
    # Answered from the rows: the member's own tenant, and any tenant by slug; the rest went to the rpc.
    assert hit == [True, False, False, False, False, True, True, True, False, False]


@asynccontextmanager
async def gateway_without_rows(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(Container.create(stack.config), stack.clock)
    assert app.tenant_rows is not None and not app.tenant_rows.rows.trusted
    async with serving(app, stack.config.trusted_proxies) as url, httpx.AsyncClient(base_url=url) as http:
        yield http
    assert app.tenant_rows.rows.hits == 0


async def test_a_change_through_one_gateway_and_replica_reaches_the_other_gateway_at_once(
    stack: Stack,
) -> None:
    admin = await signed_in(stack, "admin")
    replica_1, container_1 = await start_tenants(stack)
    replica_2, container_2 = await start_tenants(stack)
    try:
        async with (
            gateway(stack, replica_1.port) as gateway_1,
            gateway(stack, replica_2.port) as gateway_2,
        ):
            for gw in (gateway_1, gateway_2):
                await display_name(gw, admin)
                hits = gw.rows.hits
                assert await display_name(gw, admin) == "Tenant" and gw.rows.hits == hits + 1
            slug = f"s-{secrets.token_hex(6)}"
            response = await gateway_2.http.patch(
                f"/tenants/{admin.tenant_id}",
                json={"displayName": "Renamed", "slug": slug},
                headers=admin.cookie,
            )
            assert response.status_code == 200, response.text
            # The gateway that served the change answers it at once; the other within milliseconds.
            assert await display_name(gateway_2, admin) == "Renamed"
            took = await eventually(lambda: _renamed(gateway_1, admin), within=1.0)
            assert took < 1.0
            assert (await gateway_1.http.get(f"/tenants/by-slug/{admin.tenant.slug}")).status_code == 404
            assert (await gateway_1.http.get(f"/tenants/by-slug/{slug}")).json()["tenant"][
                "displayName"
            ] == "Renamed"
    finally:
        await stop_tenants(replica_1, container_1)
        await stop_tenants(replica_2, container_2)


async def _renamed(gateway: Gateway, actor: Actor) -> bool:
    response = await gateway.http.get(f"/tenants/{actor.tenant_id}", headers=actor.cookie)
    # Until tenants is back the gateway answers 503, never the old row.
    assert response.status_code in (200, 503), response.text
    return response.status_code == 200 and response.json()["tenant"]["displayName"] == "Renamed"


async def test_without_its_stream_a_gateway_asks_tenants_and_answers_503_when_it_is_down(
    stack: Stack,
) -> None:
    admin = await signed_in(stack, "admin", await new_tenant(stack))
    replica_1, container_1 = await start_tenants(stack)
    port_1 = replica_1.port
    try:
        async with gateway(stack, port_1) as gateway_1:
            await display_name(gateway_1, admin)
            assert len(gateway_1.rows) == 1
            await stop_tenants(replica_1, container_1)
            await eventually(lambda: _true(not gateway_1.rows.trusted), within=1.0)
            # The row is not answered from memory: the rpc is, and tenants is down.
            down = await gateway_1.http.get(f"/tenants/{admin.tenant_id}", headers=admin.cookie)
            assert down.status_code == 503, down.text
            # Changed while gateway 1 heard nothing: it must not come back with the old row.
            response = await stack.http.patch(
                f"/tenants/{admin.tenant_id}", json={"displayName": "Renamed"}, headers=admin.cookie
            )
            assert response.status_code == 200, response.text
            replica_1, container_1 = await start_tenants(stack, port_1)
            await eventually(lambda: _renamed(gateway_1, admin), within=5.0)
            await eventually(lambda: _true(gateway_1.rows.trusted), within=3.0)
            hits = gateway_1.rows.hits
            assert await display_name(gateway_1, admin) == "Renamed"
            assert await display_name(gateway_1, admin) == "Renamed"
            assert gateway_1.rows.hits >= hits + 1
    finally:
        await stop_tenants(replica_1, container_1)
