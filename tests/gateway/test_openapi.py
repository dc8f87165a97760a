"""The OpenAPI document says what the services enforce: the protos' field rules, cookies, Retry-After."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import protovalidate
import pytest

from central.api.v1 import options_pb2
from central.identity.v1 import signup_pb2
from common.grpc.access import declared_access
from common.roles import Role
from services.gateway import meta, upstreams
from services.gateway.openapi import build_document
from services.gateway.routes import Route, RouteTable, marked_field

ROUTES = RouteTable.from_services([meta.SERVICE, *upstreams.routed_services()])
# Not the default name: the document must name the cookie the gateway is configured with.
COOKIE_NAME = "central-session-test"
DOCUMENT = build_document(ROUTES, "0.0.0", COOKIE_NAME)
SCHEMAS = DOCUMENT["components"]["schemas"]


def operation(method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][path][method]
    return found


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = SCHEMAS[name]
    return found


def matches(keywords: dict[str, Any], value: str) -> bool:
    """JSON Schema's string keywords, as a validator of the document would apply them."""
    return (
        keywords.get("minLength", 0) <= len(value) <= keywords.get("maxLength", len(value))
        and re.search(keywords["pattern"], value) is not None
    )


def test_signup_body_declares_its_rules() -> None:
    signup = operation("post", "/signup")
    assert signup["requestBody"]["required"] is True
    body = schema("central.identity.v1.SignupInput")
    assert set(body["required"]) == {"tenantSlug", "tenantDisplayName", "email", "password", "displayName"}
    properties = body["properties"]
    assert properties["password"]["minLength"] == 12 and properties["password"]["maxLength"] == 256
    assert properties["email"]["maxLength"] == 254
    assert matches(properties["tenantSlug"], "acme") and not matches(properties["tenantSlug"], "-acme")


def test_an_empty_patch_needs_no_body() -> None:
    patch = operation("patch", "/tenants/{tenantId}")
    assert patch["requestBody"]["required"] is False
    body = schema("central.tenants.v1.UpdateTenantInput")
    assert "required" not in body
    assert "tenantId" not in body["properties"], "the path binds it"


def test_path_ids_are_patterns_matched_whole() -> None:
    [tenant_id] = operation("get", "/tenants/{tenantId}")["parameters"]
    assert tenant_id["in"] == "path"
    assert matches(tenant_id["schema"], "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert not matches(tenant_id["schema"], "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV\n")
    assert not matches(tenant_id["schema"], "tenantuser-01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_list_parameters_have_ranges_and_enums() -> None:
    parameters = {p["name"]: p["schema"] for p in operation("get", "/tenants/{tenantId}/users")["parameters"]}
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 200}
    names = ["LIST_ORDER_UNSPECIFIED", "LIST_ORDER_OLDEST_FIRST", "LIST_ORDER_NEWEST_FIRST"]
    assert parameters["order"] == {"type": "string", "enum": names}
    assert parameters["cursor"]["maxLength"] == 2048


def test_a_connector_takes_exactly_one_kind_and_a_bounded_min_length() -> None:
    body = schema("central.auth.v1.CreateAuthConnectorInput")
    # Exactly one member, and `kind`, when sent, names it.
    assert body["oneOf"] == [
        {
            "required": ["password"],
            "properties": {"kind": {"const": "password"}},
            "not": {"anyOf": [{"required": ["oidc"]}]},
        },
        {
            "required": ["oidc"],
            "properties": {"kind": {"const": "oidc"}},
            "not": {"anyOf": [{"required": ["password"]}]},
        },
    ]
    oidc = schema("central.auth.v1.OidcConnectorConfigInput")
    assert oidc["required"] == ["issuer", "clientId", "clientSecret"]
    assert oidc["properties"]["clientSecret"]["maxLength"] == 1024
    min_length = schema("central.auth.v1.PasswordConnectorConfig")["properties"]["minLength"]
    # 0 (absent) takes the default; anything else is a length between the floor and the ceiling.
    assert min_length == {"anyOf": [{"const": 0}, {"type": "integer", "minimum": 8, "maximum": 256}]}


@pytest.mark.parametrize(
    "name",
    [
        "Ann Example",
        "  Ann  ",
        "Zoë Ünal",
        "李小龙",
        "",
        "   ",
        "\u3000",
        "Ann\x00",
        "Ann \x1b[31mRed",
        "Ann\u202eelpmaxE",
        "Ann\u2066x",
        "Ann\nExample",
        "Ann\x85",
        "a" * 200,
        "a" * 201,
    ],
)
def test_the_document_and_the_guard_agree_on_names(name: str) -> None:
    keywords = schema("central.identity.v1.SignupInput")["properties"]["displayName"]
    refused = {
        v.proto.field.elements[0].field_name
        for v in protovalidate.collect_violations(signup_pb2.SignupInput(display_name=name))
        if v.proto.field is not None
    }
    assert matches(keywords, name) == ("display_name" not in refused)


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.com",
        "ann@example",
        "ann@@example.com",
        "an n@example.com",
        "ann\x1b@example.com",
        "a" * 65 + "@x.io",
    ],
)
def test_the_document_and_the_guard_agree_on_emails(email: str) -> None:
    keywords = schema("central.identity.v1.SignupInput")["properties"]["email"]
    refused = {
        v.proto.field.elements[0].field_name
        for v in protovalidate.collect_violations(signup_pb2.SignupInput(email=email))
        if v.proto.field is not None
    }
    assert matches(keywords, email) == ("email" not in refused)


def _strings(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "string" and "format" not in node and "const" not in node:
            yield node
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_no_string_of_the_document_admits_nul() -> None:
    strings = list(_strings(DOCUMENT["paths"])) + list(_strings(SCHEMAS))
    assert strings
    for keywords in strings:
        if "enum" in keywords:
            assert all("\x00" not in value for value in keywords["enum"])
        elif "pattern" in keywords:
            assert re.search(keywords["pattern"], "\x00") is None, keywords
            assert re.search(keywords["pattern"], "a\x00b") is None, keywords


def test_session_cookies_and_retry_after_are_documented() -> None:
    cookie_routes = {
        (
            route.http_method.lower(),
            route.template.openapi_path({f.name: f.json_name for f in route.input_descriptor.fields}),
        )
        for route in ROUTES.routes
        if route.session_token_field is not None
        or route.ends_session_field is not None
        or marked_field(route.method.output_type, options_pb2.pre_login_token) is not None
    }
    assert ("post", "/auth/password-login") in cookie_routes and ("post", "/auth/logout") in cookie_routes
    for path, item in DOCUMENT["paths"].items():
        for method, op in item.items():
            # A redirect's answer is its 302 (single sign-on), any other's its 200.
            headers = op["responses"].get("200", op["responses"].get("302", {})).get("headers", {})
            assert ("Set-Cookie" in headers) == ((method, path) in cookie_routes), (method, path)
    login = operation("post", "/auth/password-login")
    assert "Retry-After" in login["responses"]["429"]["headers"]
    assert "429" not in operation("get", "/me")["responses"]


def test_every_error_response_references_the_error_schema() -> None:
    for item in DOCUMENT["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if status not in ("200", "302"):
                    ref = response["content"]["application/json"]["schema"]
                    assert ref == {"$ref": "#/components/schemas/Error"}
                    assert status == "default" or 400 <= int(status) < 600


def test_a_user_is_created_with_a_password_and_nothing_only_the_system_may_send() -> None:
    body = schema("central.auth.v1.CreateTenantUserInput")
    assert set(body["required"]) == {"email", "displayName", "role", "password"}
    assert not {"tenantUserId", "passwordHash"} & set(body["properties"])
    assert body["properties"]["role"]["enum"] == [role.value for role in Role]
    assert operation("post", "/tenants/{tenantId}/users")["requestBody"]["required"] is True


def test_the_cookie_is_named_as_configured() -> None:
    scheme = DOCUMENT["components"]["securitySchemes"]["TenantUserCookie"]
    assert scheme == {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME}
    login = operation("post", "/auth/password-login")["responses"]["200"]
    assert COOKIE_NAME in login["headers"]["Set-Cookie"]["description"]


ACCESS_NAMES = {
    options_pb2.ACCESS_PUBLIC: "public",
    options_pb2.ACCESS_TENANT_USER: "tenant-user",
    options_pb2.ACCESS_TENANT_MEMBER: "tenant-member",
    options_pb2.ACCESS_TENANT_ADMIN: "tenant-admin",
}


@pytest.mark.parametrize("route", ROUTES.routes, ids=lambda r: f"{r.http_method} {r.template.template}")
def test_every_operation_says_who_may_call_it(route: Route) -> None:
    json_names = {f.name: f.json_name for f in route.input_descriptor.fields}
    op = operation(route.http_method.lower(), route.template.openapi_path(json_names))
    access = declared_access(route.method)
    assert op["x-central-access"] == ACCESS_NAMES[access]
    assert op["description"]
    if access == options_pb2.ACCESS_PUBLIC:
        # No cookie needed: none at all, or an optional one (logout).
        assert op["security"] in ([], [{"TenantUserCookie": []}, {}])
    else:
        assert op["security"] == [{"TenantUserCookie": []}]
    assert ("403" in op["responses"]) == (access == options_pb2.ACCESS_TENANT_ADMIN)


def test_the_sso_callback_takes_its_pre_login_token_from_the_cookie_only() -> None:
    names = {p["name"] for p in operation("get", "/auth/oidc/callback")["parameters"]}
    assert {"code", "state"} <= names
    assert "preLoginToken" not in names


@pytest.mark.parametrize(
    ("return_to", "allowed"),
    [("", True), ("/", True), ("/home?tab=1", True), ("//evil.example", False), ("/\\evil", False),
     ("https://evil.example", False), ("/a b", False)],
)  # fmt: skip
def test_the_document_and_the_guard_agree_on_return_to(return_to: str, allowed: bool) -> None:
    start = operation("get", "/auth/oidc/{authConnectorId}/start")
    keywords = next(p["schema"] for p in start["parameters"] if p["name"] == "returnTo")
    assert matches(keywords, return_to) is allowed


def test_required_audio_is_at_least_one_character_of_base64() -> None:
    body = operation("post", "/tenants/{tenantId}/transcription-jobs")["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema(ref)["properties"]["audio"]["minLength"] == 1


def test_an_issuer_is_documented_as_a_uri() -> None:
    issuers = [
        properties["issuer"]
        for name, body in SCHEMAS.items()
        if name.startswith("central.auth.v1.")
        and "Input" in name
        and "issuer" in (properties := body.get("properties", {}))
    ]
    assert issuers
    assert all(issuer.get("format") == "uri" for issuer in issuers)


def test_repeated_values_carry_their_items_rules() -> None:
    config = schema("central.auth.v1.OidcConnectorConfigInput")["properties"]
    domains = config["allowedEmailDomains"]
    assert domains["maxItems"] == 50
    assert domains["items"]["format"] == "hostname"
    assert domains["items"]["minLength"] == 1
    assert "pattern" in config["scopes"]["items"]
