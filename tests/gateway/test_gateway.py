"""Browser -> gateway -> gRPC -> PostgreSQL, over real HTTP."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.config import HostPort
from common.container import Container
from services.tenants.ids import TenantIds
from tests.support.actors import COOKIE, PASSWORD, new_user, signed_in
from tests.support.stack import Stack, running_gateway


async def create_tenant(stack: Stack, slug: str) -> tenants_pb2.TenantPublic:
    stub = tenants_pb2_grpc.TenantsServiceStub(stack.channel)
    response = await stub.CreateTenant(
        tenants_pb2.CreateTenantInput(slug=slug, display_name="Acme"), timeout=5
    )
    return response.tenant


def assert_error(
    response: httpx.Response, status: int, grpc_status: str, reason: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == status
    assert error["status"] == grpc_status
    assert isinstance(error["message"], str) and error["message"]
    if reason is not None:
        infos = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"]
        assert [i["reason"] for i in infos] == [reason]
    return dict(error)


async def test_tenant_by_slug_is_tenant_public_with_type_and_rich_id(stack: Stack) -> None:
    slug = f"gw-{secrets.token_hex(4)}"
    tenant = await create_tenant(stack, slug)
    response = await stack.http.get(f"/tenants/by-slug/{slug}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"tenant"}
    assert body["tenant"] == {
        "__type": "TenantPublic",
        "tenantId": tenant.tenant_id,
        "slug": slug,
        "displayName": "Acme",
        "createdAt": tenant.created_at.ToJsonString(),
    }
    assert TenantIds.guard(body["tenant"]["tenantId"])
    assert body["tenant"]["createdAt"].endswith("Z")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_missing_tenant_is_404_in_aip193_shape(stack: Stack) -> None:
    response = await stack.http.get(f"/tenants/by-slug/nobody-{secrets.token_hex(4)}")
    error = assert_error(response, 404, "NOT_FOUND", "TENANT_NOT_FOUND")
    assert error["details"][0]["domain"] == "tenants.central"


async def test_malformed_slug_is_400_with_field_violation(stack: Stack) -> None:
    response = await stack.http.get("/tenants/by-slug/-Bad-")
    error = assert_error(response, 400, "INVALID_ARGUMENT")
    violations = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    assert [v["field"] for v in violations[0]["fieldViolations"]] == ["slug"]


async def test_percent_encoded_path_variables_are_decoded_exactly_once(stack: Stack) -> None:
    slug = f"gw-{secrets.token_hex(4)}a"
    tenant = await create_tenant(stack, slug)
    # Decoded once, `%61` is `a`: the tenant. Not decoded, it is no slug (a 400).
    found = await stack.http.get(f"/tenants/by-slug/{slug[:-1]}%61")
    assert found.status_code == 200, found.text
    assert found.json()["tenant"]["tenantId"] == tenant.tenant_id
    # Decoded once, `%2561` is `%61`: no slug (a 400). Decoded twice, it would be the tenant.
    twice = await stack.http.get(f"/tenants/by-slug/{slug[:-1]}%2561")
    assert_error(twice, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("method", "path", "status", "grpc_status", "reason"),
    [
        ("GET", "/nowhere", 404, "NOT_FOUND", "ROUTE_NOT_FOUND"),
        ("GET", "/tenants/by-slug/a/b", 404, "NOT_FOUND", "ROUTE_NOT_FOUND"),
        ("DELETE", "/tenants/by-slug/acme", 405, "UNIMPLEMENTED", "METHOD_NOT_ALLOWED"),
        ("POST", "/meta/liveness-probe", 405, "UNIMPLEMENTED", "METHOD_NOT_ALLOWED"),
        ("GET", "/tenants/by-slug/acme?unknown=1", 400, "INVALID_ARGUMENT", "INVALID_REQUEST"),
        ("GET", "/tenants/by-slug/acme?slug=other", 400, "INVALID_ARGUMENT", "INVALID_REQUEST"),
        ("GET", "/tenants/by-slug/%FF", 400, "INVALID_ARGUMENT", "INVALID_REQUEST"),
    ],
)
async def test_requests_the_gateway_refuses(
    stack: Stack, method: str, path: str, status: int, grpc_status: str, reason: str
) -> None:
    assert_error(await stack.http.request(method, path), status, grpc_status, reason)


async def test_a_wrong_method_names_the_allowed_ones(stack: Stack) -> None:
    response = await stack.http.post("/tenants/by-slug/acme")
    assert_error(response, 405, "UNIMPLEMENTED", "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD"


async def test_a_body_where_none_is_taken_is_400(stack: Stack) -> None:
    response = await stack.http.request(
        "GET", "/tenants/by-slug/acme", content=b'{"slug": "x"}', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "INVALID_ARGUMENT", "INVALID_REQUEST")


async def test_a_body_that_is_not_json_is_415(stack: Stack) -> None:
    response = await stack.http.request(
        "GET",
        "/tenants/by-slug/acme",
        content=b"slug=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "INVALID_ARGUMENT", "UNSUPPORTED_MEDIA_TYPE")


async def test_an_oversized_body_is_413(stack: Stack) -> None:
    big = b'{"x": "' + b"a" * (stack.config.max_body_bytes + 10) + b'"}'
    response = await stack.http.request(
        "GET", "/tenants/by-slug/acme", content=big, headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "RESOURCE_EXHAUSTED", "BODY_TOO_LARGE")


async def test_probes(stack: Stack) -> None:
    live = await stack.http.get("/meta/liveness-probe")
    assert (live.status_code, live.json()) == (200, {"pong": True})
    ready = await stack.http.get("/meta/readiness-probe")
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


async def test_readiness_is_503_and_calls_are_503_while_a_service_is_down(stack: Stack) -> None:
    # A second gateway whose tenants service address has nothing listening.
    dead = Container.create(stack.config.with_address("tenants", HostPort("127.0.0.1", 9)))
    async with running_gateway(dead) as url, httpx.AsyncClient(base_url=url) as http:
        assert_error(await http.get("/meta/readiness-probe"), 503, "UNAVAILABLE", "DEPENDENCY_UNAVAILABLE")
        assert_error(await http.get("/tenants/by-slug/acme"), 503, "UNAVAILABLE")
        live = await http.get("/meta/liveness-probe")
        assert live.status_code == 200


async def test_openapi_document_describes_the_routes(stack: Stack) -> None:
    response = await stack.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    # Every route of API.md that exists so far (signup and offboarding arrive with the worker).
    assert {
        ("GET", "/meta/liveness-probe"),
        ("GET", "/meta/readiness-probe"),
        ("GET", "/tenants/by-slug/{slug}"),
        ("GET", "/tenants/{tenantId}/login-options"),
        ("POST", "/auth/password-login"),
        ("POST", "/auth/logout"),
        ("GET", "/me"),
        ("GET", "/me/sessions"),
        ("DELETE", "/me/sessions/{sessionId}"),
        ("GET", "/tenants/{tenantId}"),
        ("PATCH", "/tenants/{tenantId}"),
        ("GET", "/tenants/{tenantId}/users"),
        ("POST", "/tenants/{tenantId}/users"),
        ("GET", "/tenants/{tenantId}/users/{tenantUserId}"),
        ("GET", "/tenants/{tenantId}/auth-connectors"),
        ("POST", "/tenants/{tenantId}/auth-connectors"),
        ("GET", "/tenants/{tenantId}/auth-connectors/{authConnectorId}"),
    } <= operations
    by_slug = document["paths"]["/tenants/by-slug/{slug}"]["get"]
    assert by_slug["tags"] == ["tenants"]
    assert by_slug["security"] == []
    [slug_parameter] = by_slug["parameters"]
    assert {"name": "slug", "in": "path", "required": True}.items() <= slug_parameter.items()
    assert slug_parameter["schema"]["pattern"].startswith("^[a-z0-9]")  # the slug rule of the protos
    response_ref = by_slug["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = document["components"]["schemas"]
    wrapper = schemas[response_ref.rsplit("/", 1)[1]]
    tenant = schemas[wrapper["properties"]["tenant"]["$ref"].rsplit("/", 1)[1]]
    assert tenant["properties"]["__type"] == {"const": "TenantPublic"}
    assert set(tenant["properties"]) == {"__type", "tenantId", "slug", "displayName", "createdAt"}
    assert tenant["properties"]["createdAt"] == {"type": "string", "format": "date-time"}
    assert document["components"]["securitySchemes"]["TenantUserCookie"]["in"] == "cookie"


async def test_a_cookie_route_answers_401_before_looking_at_the_input(stack: Stack) -> None:
    response = await stack.http.request(
        "PATCH",
        f"/tenants/{TenantIds.new()}",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error(response, 401, "UNAUTHENTICATED", "SESSION_REQUIRED")


async def test_an_id_with_a_trailing_newline_is_a_400_on_public_and_cookie_routes(stack: Stack) -> None:
    actor = await signed_in(stack)
    newline_id = f"{actor.tenant_id}%0A"
    assert_error(await stack.http.get(f"/tenants/{newline_id}/login-options"), 400, "INVALID_ARGUMENT")
    login = await stack.http.post(
        "/auth/password-login",
        json={"tenantId": f"{actor.tenant_id}\n", "email": actor.user.email, "password": PASSWORD},
    )
    # A login names no part that was wrong (API.md).
    assert_error(login, 401, "UNAUTHENTICATED", "INVALID_CREDENTIALS")
    for path in (f"/tenants/{newline_id}", f"/tenants/{newline_id}/users"):
        assert_error(await stack.http.get(path, headers=actor.cookie), 400, "INVALID_ARGUMENT")


async def test_a_list_query_sent_again_beside_its_cursor_may_change_only_the_limit(stack: Stack) -> None:
    actor = await signed_in(stack)
    for _ in range(2):
        await new_user(stack, actor.tenant_id, "member")
    path = f"/tenants/{actor.tenant_id}/users"
    first = await stack.http.get(path, params={"limit": 1}, headers=actor.cookie)
    assert first.status_code == 200, first.text
    cursor = first.json()["nextCursor"]
    rest = await stack.http.get(path, params={"limit": 2, "cursor": cursor}, headers=actor.cookie)
    assert rest.status_code == 200, rest.text
    seen = [u["tenantUserId"] for u in first.json()["tenantUsers"] + rest.json()["tenantUsers"]]
    assert len(seen) == len(set(seen)) == 3
    assert not rest.json().get("nextCursor")

    changed = await stack.http.get(
        path, params={"limit": 1, "order": "LIST_ORDER_NEWEST_FIRST", "cursor": cursor}, headers=actor.cookie
    )
    error = assert_error(changed, 400, "INVALID_ARGUMENT", "CURSOR_QUERY_MISMATCH")
    violations = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    assert [v["field"] for v in violations[0]["fieldViolations"]] == ["order"]
    for internal in ("oneof", "central.", "InputOrCursor"):
        assert internal not in error["message"]


async def test_list_parameters_are_named_as_sent_and_an_empty_cursor_is_the_first_page(stack: Stack) -> None:
    actor = await signed_in(stack)
    path = f"/tenants/{actor.tenant_id}/users"
    error = assert_error(
        await stack.http.get(path, params={"limit": 201}, headers=actor.cookie), 400, "INVALID_ARGUMENT"
    )
    violations = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    assert [v["field"] for v in violations[0]["fieldViolations"]] == ["limit"]
    assert error["message"].startswith("limit: ")
    first = await stack.http.get(path, params={"limit": 1, "cursor": ""}, headers=actor.cookie)
    assert first.status_code == 200, first.text
    assert [u["tenantUserId"] for u in first.json()["tenantUsers"]] == [actor.user.tenant_user_id]


@pytest.mark.parametrize("order", ["0", "2", "5", "NEWEST"])
async def test_an_enum_is_given_by_one_of_its_names_only(stack: Stack, order: str) -> None:
    actor = await signed_in(stack)
    path = f"/tenants/{actor.tenant_id}/users"
    named = await stack.http.get(path, params={"order": "LIST_ORDER_NEWEST_FIRST"}, headers=actor.cookie)
    assert named.status_code == 200, named.text
    error = assert_error(
        await stack.http.get(path, params={"order": order}, headers=actor.cookie), 400, "INVALID_ARGUMENT"
    )
    assert "LIST_ORDER_NEWEST_FIRST" in error["message"]


async def test_null_is_refused_rather_than_read_as_not_sent(stack: Stack) -> None:
    actor = await signed_in(stack)
    response = await stack.http.patch(
        f"/tenants/{actor.tenant_id}", json={"slug": None}, headers=actor.cookie
    )
    error = assert_error(response, 400, "INVALID_ARGUMENT", "INVALID_REQUEST")
    assert "'slug'" in error["message"]


@pytest.mark.parametrize("content", [b"", b"{}"])
async def test_logout_takes_an_empty_body_and_an_empty_object_alike(stack: Stack, content: bytes) -> None:
    actor = await signed_in(stack)
    response = await stack.http.post(
        "/auth/logout", content=content, headers={**actor.cookie, "content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {}
    assert f"{COOKIE}=;" in response.headers["set-cookie"]
    assert_error(await stack.http.get("/me", headers=actor.cookie), 401, "UNAUTHENTICATED")


async def test_head_answers_as_get_with_the_same_headers_and_no_body(stack: Stack) -> None:
    slug = f"gw-{secrets.token_hex(4)}"
    await create_tenant(stack, slug)
    for path in (f"/tenants/by-slug/{slug}", "/meta/liveness-probe", "/openapi.json"):
        get, head = await stack.http.get(path), await stack.http.head(path)
        assert (head.status_code, get.status_code) == (200, 200), path
        assert head.content == b""
        for header in ("content-length", "content-type", "cache-control"):
            assert head.headers.get(header) == get.headers.get(header), (path, header)
    unauthenticated = await stack.http.head(f"/tenants/{TenantIds.new()}")
    assert unauthenticated.status_code == 401
    assert unauthenticated.content == b""


async def test_a_body_that_never_finishes_is_408_and_its_connection_closed(stack: Stack) -> None:
    slow = Container.create(replace(stack.config, body_timeout_seconds=0.3))
    async with running_gateway(slow) as url:
        address = urlsplit(url)
        assert address.hostname is not None and address.port is not None
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        writer.write(
            b"POST /auth/password-login HTTP/1.1\r\nhost: gateway\r\n"
            b"content-type: application/json\r\ncontent-length: 100\r\n\r\n"
            b'{"tenantId": '
        )
        await writer.drain()
        # read() returns at end of stream: only once the gateway has closed the connection.
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b'"BODY_TIMEOUT"' in body


async def test_allowed_origins_may_send_unsafe_requests_and_no_other_origin_may(stack: Stack) -> None:
    allowed = "https://app.example.com"
    container = Container.create(replace(stack.config, allowed_origins=frozenset({allowed})))
    async with running_gateway(container) as url, httpx.AsyncClient(base_url=url) as http:
        for headers in ({"origin": allowed}, {"origin": allowed, "sec-fetch-site": "cross-site"}):
            response = await http.post("/auth/logout", headers=headers)
            assert response.status_code == 200, (headers, response.text)
        for origin in ("https://other.example.com", "https://app.example.com.evil.example"):
            refused = await http.post("/auth/logout", headers={"origin": origin})
            assert_error(refused, 403, "PERMISSION_DENIED", "CROSS_ORIGIN_REQUEST")
    # The stack's own gateway allows no other origin: the setting is what let it through.
    assert_error(
        await stack.http.post("/auth/logout", headers={"origin": allowed}),
        403,
        "PERMISSION_DENIED",
        "CROSS_ORIGIN_REQUEST",
    )
