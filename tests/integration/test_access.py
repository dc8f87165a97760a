"""Who may do what: tenant isolation, roles, CSRF and principals, generated from the route table."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import grpc
import httpx
import pytest
from google.protobuf.message import Message

from central.tenants.v1 import tenants_pb2
from common.keys import derive_key
from common.principal import METADATA_KEY, SYSTEM, Principal, PrincipalKind, PrincipalSigner
from services.auth.ids import AuthConnectorIds, SessionIds, TenantUserIds
from services.gateway.routes import Route, RouteTable
from services.gateway.server import build_app
from services.tenants.ids import TenantIds
from tests.integration.conftest import Stack
from tests.integration.identity import Actor, fresh_address, signed_in


def cookie_routes(stack: Stack) -> list[Route]:
    routes: RouteTable = build_app(stack.container).routes
    return [r for r in routes.routes if r.needs_cookie]


def route_id(route: Route) -> str:
    return f"{route.http_method} {route.template.template}"


@dataclass
class World:
    """Tenant A's admin and member, and tenant B with one of each resource."""

    admin_a: Actor
    member_a: Actor
    admin_b: Actor
    ids_a: dict[str, str]
    ids_b: dict[str, str]


async def _ids(stack: Stack, actor: Actor) -> dict[str, str]:
    connectors = await stack.http.get(f"/tenants/{actor.tenant_id}/auth-connectors", headers=actor.cookie)
    sessions = await stack.http.get("/me/sessions", headers=actor.cookie)
    return {
        "tenant_id": actor.tenant_id,
        "tenant_user_id": actor.user.tenant_user_id,
        "auth_connector_id": connectors.json()["authConnectors"][0]["authConnectorId"],
        "session_id": sessions.json()["sessions"][0]["sessionId"],
    }


_RANDOM = {
    "tenant_id": TenantIds.new,
    "tenant_user_id": TenantUserIds.new,
    "auth_connector_id": AuthConnectorIds.new,
    "session_id": SessionIds.new,
}


@pytest.fixture(scope="module")
async def world(stack: Stack) -> World:
    admin_a = await signed_in(stack)
    member_a = await signed_in(stack, role="member", tenant=admin_a.tenant)
    admin_b = await signed_in(stack)
    return World(admin_a, member_a, admin_b, await _ids(stack, admin_a), await _ids(stack, admin_b))


def path_for(route: Route, ids: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: ids[m.group(1)], route.template.template)


def is_admin_route(route: Route) -> bool:
    """Mutations of a tenant, its users and its connectors: admins only."""
    return route.http_method != "GET" and route.template.template.startswith("/tenants/{tenant_id}")


async def call(stack: Stack, route: Route, path: str, actor: Actor) -> httpx.Response:
    body: dict[str, str] | None = {} if route.body else None
    return await stack.http.request(route.http_method, path, json=body, headers=actor.cookie)


async def test_the_matrix_covers_every_cookie_route(stack: Stack) -> None:
    routes = cookie_routes(stack)
    assert len(routes) >= 13
    variables = {v.field_path for r in routes for v in r.template.variables}
    assert variables <= set(_RANDOM), "a new path variable needs an ID in the isolation matrix"


async def test_another_tenants_resources_are_not_found_exactly_like_missing_ones(
    stack: Stack, world: World
) -> None:
    for route in cookie_routes(stack):
        if not route.template.variables:
            continue
        foreign = await call(stack, route, path_for(route, world.ids_b), world.admin_a)
        random_ids = {name: make() for name, make in _RANDOM.items()}
        # Inside A's tenant, with B's (or random) resource IDs below it.
        if "{tenant_id}" in route.template.template and len(route.template.variables) > 1:
            missing_ids = {**random_ids, "tenant_id": world.ids_a["tenant_id"]}
            foreign_in_own = await call(
                stack,
                route,
                path_for(route, {**world.ids_b, "tenant_id": world.ids_a["tenant_id"]}),
                world.admin_a,
            )
            missing = await call(stack, route, path_for(route, missing_ids), world.admin_a)
            assert foreign_in_own.status_code == 404, (route_id(route), foreign_in_own.text)
            assert foreign_in_own.text == missing.text, route_id(route)
        missing = await call(stack, route, path_for(route, random_ids), world.admin_a)
        assert foreign.status_code == 404, (route_id(route), foreign.text)
        assert foreign.text == missing.text, route_id(route)
        assert foreign.headers["cache-control"] == "no-store"


async def test_members_may_read_but_not_change(stack: Stack, world: World) -> None:
    for route in cookie_routes(stack):
        response = await call(stack, route, path_for(route, world.ids_a), world.member_a)
        if is_admin_route(route):
            assert response.status_code == 403, (route_id(route), response.text)
            assert response.json()["error"]["status"] == "PERMISSION_DENIED"
        elif route.http_method == "GET":
            assert response.status_code in (200, 404), (route_id(route), response.text)


async def test_admin_routes_pass_authorization_for_admins(stack: Stack, world: World) -> None:
    for route in cookie_routes(stack):
        if not is_admin_route(route) or route.http_method == "DELETE":
            continue
        response = await call(stack, route, path_for(route, world.ids_a), world.admin_a)
        # An empty body is invalid input, or a no-op: either way, not 403 or 404.
        assert response.status_code in (200, 400), (route_id(route), response.text)
    # The loop disabled A's password connector on its way; the other tests need it.
    connector = world.ids_a["auth_connector_id"]
    enabled = await stack.http.post(
        f"/tenants/{world.admin_a.tenant_id}/auth-connectors/{connector}/enable", headers=world.admin_a.cookie
    )
    assert enabled.status_code == 200


async def test_every_cookie_route_needs_the_cookie(stack: Stack, world: World) -> None:
    for route in cookie_routes(stack):
        body: dict[str, str] | None = {} if route.body else None
        response = await stack.http.request(route.http_method, path_for(route, world.ids_a), json=body)
        assert response.status_code == 401, route_id(route)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"sec-fetch-site": "cross-site"}, 403),
        ({"sec-fetch-site": "same-site"}, 403),
        ({"origin": "https://evil.example"}, 403),
        ({"origin": "null"}, 403),
        ({"sec-fetch-site": "same-origin", "origin": "https://evil.example"}, 200),
        ({"sec-fetch-site": "none"}, 200),
        ({}, 200),
    ],
)
async def test_cross_origin_unsafe_requests_are_refused(
    stack: Stack, world: World, headers: dict[str, str], status: int
) -> None:
    tenant_path = f"/tenants/{world.admin_a.tenant_id}"
    patched = await stack.http.patch(
        tenant_path, json={"displayName": "Renamed"}, headers={**world.admin_a.cookie, **headers}
    )
    assert patched.status_code == status, patched.text
    login = await stack.http.post(
        "/auth/password-login",
        json={
            "tenantId": world.admin_a.tenant_id,
            "email": world.admin_a.user.email,
            "password": world.admin_a.password,
        },
        headers={"x-forwarded-for": fresh_address(), **headers},
    )
    assert login.status_code == status, login.text
    if status == 403:
        assert patched.json()["error"]["details"][0]["reason"] == "CROSS_ORIGIN_REQUEST"
        assert "set-cookie" not in login.headers


async def test_same_origin_and_allowed_origins_pass(stack: Stack, world: World) -> None:
    host = stack.gateway_url.removeprefix("http://")
    same = await stack.http.patch(
        f"/tenants/{world.admin_a.tenant_id}",
        json={},
        headers={**world.admin_a.cookie, "origin": f"http://{host}"},
    )
    assert same.status_code == 200
    # Safe methods pass whatever the browser says.
    read = await stack.http.get(
        f"/tenants/{world.admin_a.tenant_id}",
        headers={**world.admin_a.cookie, "sec-fetch-site": "cross-site"},
    )
    assert read.status_code == 200


async def test_a_form_or_text_body_is_415(stack: Stack, world: World) -> None:
    for content_type in (
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
    ):
        response = await stack.http.post(
            "/auth/password-login", content=b'{"tenantId": "x"}', headers={"content-type": content_type}
        )
        assert response.status_code == 415, content_type


def forged_signer() -> PrincipalSigner:
    return PrincipalSigner(derive_key(b"not Central's key".ljust(32, b"!"), "principal"))


@pytest.mark.parametrize("case", ["none", "garbage", "forged", "expired"])
async def test_direct_grpc_calls_without_a_valid_principal_are_unauthenticated(
    stack: Stack, case: str
) -> None:
    tokens = {
        "garbage": "garbage",
        "forged": forged_signer().sign(SYSTEM),
        "expired": stack.container.signer.sign(SYSTEM, now=time.time() - 120),
    }
    metadata = ((METADATA_KEY, tokens[case]),) if case in tokens else ()
    for address, method, request in (
        (
            stack.tenants_address,
            "/central.tenants.v1.TenantsService/ListTenants",
            tenants_pb2.ListTenantsInputOrCursor(),
        ),
        (
            stack.tenants_address,
            "/central.tenants.v1.TenantsService/GetTenantBySlug",
            tenants_pb2.GetTenantBySlugInput(slug="abc"),
        ),
        (
            stack.auth_address,
            "/central.auth.v1.SessionsService/ValidateSession",
            tenants_pb2.GetTenantInput(),
        ),
    ):
        async with grpc.aio.insecure_channel(address) as channel:
            rpc: grpc.aio.UnaryUnaryMultiCallable[Message, bytes] = channel.unary_unary(
                method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=lambda b: b
            )
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await rpc(request, timeout=5, metadata=metadata)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED, method


async def test_a_user_principal_cannot_do_what_only_the_system_may(stack: Stack, world: World) -> None:
    user = Principal(
        PrincipalKind.USER,
        tenant_id=world.admin_a.tenant_id,
        tenant_user_id=world.admin_a.user.tenant_user_id,
        role="admin",
    )
    async with grpc.aio.insecure_channel(stack.tenants_address) as channel:
        rpc = channel.unary_unary(
            "/central.tenants.v1.TenantsService/CreateTenant",
            request_serializer=tenants_pb2.CreateTenantInput.SerializeToString,
            response_deserializer=tenants_pb2.CreateTenantResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await rpc(
                tenants_pb2.CreateTenantInput(slug="sneaky", display_name="x"),
                timeout=5,
                metadata=((METADATA_KEY, stack.container.signer.sign(user)),),
            )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
