"""Who may do what: tenant isolation, roles, CSRF and principals, generated from the route table."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from ulid import ULID

from central.api.v1 import options_pb2
from central.tenants.v1 import tenants_pb2
from common.grpc.access import declared_access
from common.keys import Issuer, SigningKey, load_signing_key
from common.principal import GATEWAY, METADATA_KEY, SYSTEM, Principal, PrincipalKind, PrincipalSigner
from common.roles import Role
from services.gateway.routes import Route, RouteTable
from services.gateway.server import build_app
from services.gateway.upstreams import audiences, routed_services
from tests.media.audio_samples import tone_wav
from tests.support.actors import Actor, fresh_address, login, signed_in
from tests.support.principals import resigned
from tests.support.stack import Stack


def cookie_routes(stack: Stack) -> list[Route]:
    routes: RouteTable = build_app(stack.container).routes
    return [r for r in routes.routes if r.needs_cookie]


def route_id(route: Route) -> str:
    return f"{route.http_method} {route.template.template}"


# What these answer a tenant's own member depends on the resource, not only on the rpc's
# access: the audio sent (create), the job's state (cancel), its submitter (delete). Their
# answers to everyone are tested in tests/media/test_transcription_jobs.py.
DECIDED_BY_THE_RESOURCE = {"CreateTranscriptionJob", "CancelTranscriptionJob", "DeleteTranscriptionJob"}


async def with_a_transcription_job(stack: Stack, actor: Actor) -> None:
    """A job in the actor's tenant, so that every path variable has a real ID to find."""
    body = {"audio": base64.b64encode(tone_wav(0.2)).decode()}
    created = await stack.http.post(
        f"/tenants/{actor.tenant_id}/transcription-jobs", json=body, headers=actor.cookie
    )
    assert created.status_code == 200, created.text


@dataclass
class World:
    """Tenant A's admin and member, and tenant B with one of each resource."""

    admin_a: Actor
    member_a: Actor
    admin_b: Actor
    ids_a: dict[str, str]
    ids_b: dict[str, str]


def _snake(json_name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: f"_{m.group().lower()}", json_name)


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(word.title() for word in rest)


async def ids_seen_by(stack: Stack, actor: Actor) -> dict[str, str]:
    """A real ID for every path variable of the cookie routes, as `actor` finds them.

    Their own tenant and user come from GET /me; every other resource from the list route
    above it in the path (`/tenants/{tenant_id}/auth-connectors` for `{auth_connector_id}`),
    never the session of this very request, so that ending a session leaves them signed in.
    """
    routes = cookie_routes(stack)
    me = (await stack.http.get("/me", headers=actor.cookie)).json()["tenantUser"]
    ids = {_snake(name): value for name, value in me.items() if name.endswith("Id")}
    lists = {route.template.template: route for route in routes if route.http_method == "GET"}
    for route in routes:
        for variable in route.template.variables:
            name = variable.field_path
            if name in ids:
                continue
            above = route.template.template.partition(f"/{{{name}}}")[0]
            assert above in lists, f"{route_id(route)}: no GET {above} to find a {{{name}}} in"
            listed = (await stack.http.get(path_for(lists[above], ids), headers=actor.cookie)).json()
            [items] = [value for value in listed.values() if isinstance(value, list)]
            ids[name] = min(items, key=lambda item: bool(item.get("current")))[_camel(name)]
    return ids


def missing_like(ids: dict[str, str]) -> dict[str, str]:
    """IDs of the same kinds that name nothing: the same prefix, a new ULID."""
    return {name: f"{value.rpartition('-')[0]}-{ULID()}" for name, value in ids.items()}


@pytest.fixture(scope="module")
async def world(stack: Stack) -> World:
    admin_a = await signed_in(stack)
    member_a = await signed_in(stack, role=Role.MEMBER, tenant=admin_a.tenant)
    admin_b = await signed_in(stack)
    await with_a_transcription_job(stack, admin_a)
    await with_a_transcription_job(stack, admin_b)
    return World(
        admin_a, member_a, admin_b, await ids_seen_by(stack, admin_a), await ids_seen_by(stack, admin_b)
    )


def path_for(route: Route, ids: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: ids[m.group(1)], route.template.template)


def is_admin_route(route: Route) -> bool:
    """What the rpc's (central.api.v1.access) says, as the guard enforces it."""
    return route.access == options_pb2.ACCESS_TENANT_ADMIN


def is_callers_own(route: Route) -> bool:
    """The caller's own resources (/me), so another user's are missing to them."""
    return route.access == options_pb2.ACCESS_TENANT_USER


async def call(stack: Stack, route: Route, path: str, actor: Actor) -> httpx.Response:
    body: dict[str, str] | None = {} if route.body else None
    return await stack.http.request(route.http_method, path, json=body, headers=actor.cookie)


def error_status(response: httpx.Response) -> str:
    status: str = response.json()["error"]["status"]
    return status


async def test_the_matrix_covers_every_route(stack: Stack, world: World) -> None:
    every = build_app(stack.container).routes.routes
    routes = cookie_routes(stack)
    # Every route is public or in the matrix, and every route in it needs the session.
    public = [r for r in every if r.access == options_pb2.ACCESS_PUBLIC]
    assert {route_id(r) for r in every} == {route_id(r) for r in public + routes}
    assert all(r.access != options_pb2.ACCESS_PUBLIC for r in routes)
    # Every path variable has a real ID, found through the routes themselves.
    variables = {v.field_path for r in routes for v in r.template.variables}
    assert variables <= set(world.ids_a) and variables <= set(world.ids_b)


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_anothers_resources_are_not_found_exactly_like_missing_ones(
    stack: Stack, world: World, role: str
) -> None:
    caller = world.member_a if role == "member" else world.admin_a
    for route in cookie_routes(stack):
        if not route.template.variables:
            continue
        foreign = await call(stack, route, path_for(route, world.ids_b), caller)
        missing_ids = missing_like(world.ids_a)
        # Inside A's tenant, with B's (or missing) resource IDs below it.
        if "{tenant_id}" in route.template.template and len(route.template.variables) > 1:
            own_tenant = {"tenant_id": world.ids_a["tenant_id"]}
            foreign_in_own = await call(stack, route, path_for(route, {**world.ids_b, **own_tenant}), caller)
            missing = await call(stack, route, path_for(route, {**missing_ids, **own_tenant}), caller)
            if is_admin_route(route) and role == "member":
                # Inside their own tenant, a member is refused before anything is looked up.
                assert (foreign_in_own.status_code, missing.status_code) == (403, 403), route_id(route)
            else:
                assert foreign_in_own.status_code == 404, (route_id(route), foreign_in_own.text)
                assert foreign_in_own.text == missing.text, route_id(route)
        missing = await call(stack, route, path_for(route, missing_ids), caller)
        assert foreign.status_code == 404, (route_id(route), foreign.text)
        assert foreign.text == missing.text, route_id(route)
        assert foreign.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_each_role_gets_exactly_what_it_may_in_its_own_tenant(stack: Stack, role: str) -> None:
    """Reads answer 200 to everyone, admins' changes 403 to members; /me is one's own."""
    admin = await signed_in(stack)
    member = await signed_in(stack, role="member", tenant=admin.tenant)
    caller, other = (member, admin) if role == "member" else (admin, member)
    # A second session of the caller's, for the routes that end one.
    await login(stack, caller.tenant_id, caller.user.email, caller.password)
    await with_a_transcription_job(stack, admin)
    mine, theirs = await ids_seen_by(stack, caller), await ids_seen_by(stack, other)
    for route in cookie_routes(stack):
        if route.method.name in DECIDED_BY_THE_RESOURCE:
            continue
        response = await call(stack, route, path_for(route, mine), caller)
        if is_admin_route(route) and role == "member":
            assert response.status_code == 403, (route_id(route), response.text)
            assert error_status(response) == "PERMISSION_DENIED", route_id(route)
        elif is_admin_route(route):
            # Allowed: an empty body may be invalid, and the caller is the tenant's last admin
            # with its last connector, which it may not take away (a 400 about the state).
            assert response.status_code == 200 or (
                response.status_code == 400
                and error_status(response) in ("INVALID_ARGUMENT", "FAILED_PRECONDITION")
            ), (route_id(route), response.text)
        else:
            assert response.status_code == 200, (route_id(route), response.text)

        if not route.template.variables or (is_admin_route(route) and role == "admin"):
            continue  # An admin's change to another user's resource is no question of access.
        response = await call(stack, route, path_for(route, theirs), caller)
        if is_callers_own(route):
            assert response.status_code == 404, (route_id(route), response.text)
        elif is_admin_route(route):
            assert response.status_code == 403, (route_id(route), response.text)
        else:
            assert response.status_code == 200, (route_id(route), response.text)


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


@pytest.mark.parametrize(
    "case", ["none", "garbage", "forged", "expired", "for-another-process", "system-by-the-gateways-key"]
)
async def test_direct_grpc_calls_without_a_valid_principal_are_unauthenticated(
    stack: Stack, case: str
) -> None:
    untrusted = PrincipalSigner(SigningKey(Issuer.SYSTEM, Ed25519PrivateKey.generate()))
    system, home = stack.container.system_signer, stack.config.home
    tokens: dict[str, Callable[[str], str]] = {
        "garbage": lambda audience: "garbage",
        "forged": lambda audience: untrusted.sign(SYSTEM, audience),
        "expired": lambda audience: system.sign(SYSTEM, audience, now=time.time() - 120),
        "for-another-process": lambda audience: system.sign(SYSTEM, "media"),
        # What a gateway that was taken over could make: the system, signed with the gateway's key.
        "system-by-the-gateways-key": lambda audience: resigned(
            load_signing_key(Issuer.GATEWAY, home),
            stack.container.gateway_signer.sign(GATEWAY, audience),
            kind=PrincipalKind.SYSTEM.value,
        ),
    }
    for audience, address, method, request in (
        (
            "tenants",
            stack.tenants_address,
            "/central.tenants.v1.TenantsService/ListTenants",
            tenants_pb2.ListTenantsInputOrCursor(),
        ),
        (
            "tenants",
            stack.tenants_address,
            "/central.tenants.v1.TenantsService/GetTenantBySlug",
            tenants_pb2.GetTenantBySlugInput(slug="abc"),
        ),
        (
            "auth",
            stack.auth_address,
            "/central.auth.v1.SessionsService/ValidateSession",
            tenants_pb2.GetTenantInput(),
        ),
    ):
        async with grpc.aio.insecure_channel(address) as channel:
            rpc: grpc.aio.UnaryUnaryMultiCallable[Message, bytes] = channel.unary_unary(
                method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=lambda b: b
            )
            metadata = ((METADATA_KEY, tokens[case](audience)),) if case in tokens else ()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await rpc(request, timeout=5, metadata=metadata)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED, method


async def test_a_user_principal_cannot_do_what_only_the_system_may(stack: Stack, world: World) -> None:
    user = Principal(
        PrincipalKind.USER,
        tenant_id=world.admin_a.tenant_id,
        tenant_user_id=world.admin_a.user.tenant_user_id,
        role=Role.ADMIN,
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
                metadata=((METADATA_KEY, stack.container.gateway_signer.sign(user, "tenants")),),
            )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def system_rpcs(stack: Stack) -> list[tuple[MethodDescriptor, str, str]]:
    """Every system rpc of every service behind the gateway, with the stack's address of its
    process and that process's name."""
    served_by = audiences()
    return [
        (method, str(stack.config.address(served_by[service.full_name])), served_by[service.full_name])
        for service in routed_services()
        for method in service.methods
        if declared_access(method) == options_pb2.ACCESS_SYSTEM
    ]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
async def test_every_system_rpc_refuses_a_tenant_user(stack: Stack, world: World, role: Role) -> None:
    """Called directly with a validly signed user principal, whatever the input: PERMISSION_DENIED."""
    actor = world.admin_a if role is Role.ADMIN else world.member_a
    user = Principal(
        PrincipalKind.USER, tenant_id=actor.tenant_id, tenant_user_id=actor.user.tenant_user_id, role=role
    )
    rpcs = system_rpcs(stack)
    assert len(rpcs) >= 6
    for method, address, audience in rpcs:
        metadata = ((METADATA_KEY, stack.container.gateway_signer.sign(user, audience)),)
        request = message_factory.GetMessageClass(method.input_type)()
        async with grpc.aio.insecure_channel(address) as channel:
            rpc: grpc.aio.UnaryUnaryMultiCallable[Message, bytes] = channel.unary_unary(
                f"/{method.containing_service.full_name}/{method.name}",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=lambda b: b,
            )
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await rpc(request, timeout=5, metadata=metadata)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED, method.full_name
