"""Tenant users and auth connectors through the gateway and over gRPC."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from services.tenants.ids import TenantIds
from tests.integration.conftest import Stack
from tests.integration.identity import PASSWORD, login, new_tenant, new_user, signed_in


async def test_admins_create_users_and_emails_are_unique_per_tenant_whatever_their_case(stack: Stack) -> None:
    admin = await signed_in(stack)
    path = f"/tenants/{admin.tenant_id}/users"
    body = {"email": "Grace@Example.com", "displayName": " Grace ", "role": "member", "password": PASSWORD}
    created = await stack.http.post(path, json=body, headers=admin.cookie)
    assert created.status_code == 200, created.text
    user = created.json()["tenantUser"]
    assert (user["__type"], user["email"], user["displayName"], user["role"]) == (
        "TenantUser",
        "Grace@Example.com",
        "Grace",
        "member",
    )
    assert "lastLoginAt" not in user and "password" not in created.text
    again = await stack.http.post(path, json={**body, "email": "grace@EXAMPLE.com"}, headers=admin.cookie)
    assert again.status_code == 409
    assert again.json()["error"]["details"][0]["reason"] == "EMAIL_TAKEN"
    # The same email in another tenant is another person.
    other = await signed_in(stack)
    elsewhere = await stack.http.post(f"/tenants/{other.tenant_id}/users", json=body, headers=other.cookie)
    assert elsewhere.status_code == 200
    fetched = await stack.http.get(f"{path}/{user['tenantUserId']}", headers=admin.cookie)
    assert fetched.json() == {"tenantUser": user}
    assert (await login(stack, admin.tenant_id, "GRACE@example.com", PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"email": "not-an-email"}, ["email"]),
        ({"role": "owner"}, ["role"]),
        ({"displayName": "  "}, ["display_name"]),
        ({"password": "short"}, ["password"]),
        ({"password": "x" * 257}, ["password"]),
        ({"password": "eleven char"}, ["password"]),
    ],
)
async def test_invalid_users_are_400_with_field_violations(
    stack: Stack, change: dict[str, str], fields: list[str]
) -> None:
    admin = await signed_in(stack)
    body = {
        "email": f"x-{secrets.token_hex(3)}@example.com",
        "displayName": "X",
        "role": "member",
        "password": PASSWORD,
    }
    response = await stack.http.post(
        f"/tenants/{admin.tenant_id}/users", json={**body, **change}, headers=admin.cookie
    )
    assert response.status_code == 400, response.text
    [violations] = [d for d in response.json()["error"]["details"] if "fieldViolations" in d]
    assert [v["field"] for v in violations["fieldViolations"]] == fields


async def test_users_are_listed_in_pages_with_cursors(stack: Stack) -> None:
    admin = await signed_in(stack)
    for _ in range(4):
        await new_user(stack, admin.tenant_id, role="member")
    path = f"/tenants/{admin.tenant_id}/users"
    seen: list[str] = []
    response = await stack.http.get(path, params={"limit": 2}, headers=admin.cookie)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["tenantUsers"]) <= 2
        seen += [u["tenantUserId"] for u in page["tenantUsers"]]
        if not page["nextCursor"]:
            break
        response = await stack.http.get(path, params={"cursor": page["nextCursor"]}, headers=admin.cookie)
    assert len(seen) == 5 and seen == sorted(seen)

    first = (await stack.http.get(path, params={"limit": 1}, headers=admin.cookie)).json()["nextCursor"]
    tampered = first[:-3] + ("AAA" if not first.endswith("AAA") else "BBB")
    for params in (
        {"cursor": tampered},
        {"cursor": "nonsense"},
        {"limit": "0"},
        {"limit": "500"},
        {"cursor": first, "limit": "3"},
    ):
        bad = await stack.http.get(path, params=params, headers=admin.cookie)
        assert bad.status_code == 400, (params, bad.text)
    # A cursor of one tenant's list is no key to another's.
    other = await signed_in(stack)
    foreign = await stack.http.get(
        f"/tenants/{other.tenant_id}/users", params={"cursor": first}, headers=other.cookie
    )
    assert foreign.status_code == 200
    assert all(u["tenantId"] == other.tenant_id for u in foreign.json()["tenantUsers"])


async def test_twenty_concurrent_creates_of_one_email_give_one_success(stack: Stack) -> None:
    tenant = await new_tenant(stack)
    stub = tenant_users_pb2_grpc.TenantUsersServiceStub(stack.auth_channel)
    request = tenant_users_pb2.CreateTenantUserInput(
        tenant_id=tenant.tenant_id,
        email="race@example.com",
        display_name="Racer",
        role="member",
        password=PASSWORD,
    )
    results = await asyncio.gather(
        *(stub.CreateTenantUser(request, timeout=30) for _ in range(20)), return_exceptions=True
    )
    successes = [r for r in results if isinstance(r, tenant_users_pb2.CreateTenantUserResponse)]
    failures = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert (len(successes), len(failures)) == (1, 19)
    assert {f.code() for f in failures} == {grpc.StatusCode.ALREADY_EXISTS}


async def test_users_of_a_missing_tenant_are_not_created(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await new_user(stack, TenantIds.new())
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_first_user_gets_the_default_password_connector(stack: Stack) -> None:
    admin = await signed_in(stack)
    listed = await stack.http.get(f"/tenants/{admin.tenant_id}/auth-connectors", headers=admin.cookie)
    assert listed.status_code == 200
    [connector] = listed.json()["authConnectors"]
    assert (connector["__type"], connector["name"], connector["kind"], connector["enabled"]) == (
        "AuthConnector",
        "password",
        "password",
        True,
    )
    assert connector["password"] == {"__type": "PasswordConnectorConfig", "minLength": 12}


async def test_oidc_connectors_never_show_their_secret(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = await signed_in(stack)
    path = f"/tenants/{admin.tenant_id}/auth-connectors"
    secret = f"s3cret-{secrets.token_hex(8)}"
    body = {
        "name": "corp-sso",
        "kind": "oidc",
        "oidc": {"issuer": "https://id.example.com", "clientId": "central", "clientSecret": secret},
    }
    created = await stack.http.post(path, json=body, headers=admin.cookie)
    assert created.status_code == 200, created.text
    connector = created.json()["authConnector"]
    assert connector["kind"] == "oidc"
    assert connector["oidc"] == {
        "__type": "OidcConnectorConfig",
        "issuer": "https://id.example.com",
        "clientId": "central",
    }
    responses = [
        created,
        await stack.http.get(f"{path}/{connector['authConnectorId']}", headers=admin.cookie),
        await stack.http.get(path, headers=admin.cookie),
        await stack.http.get(f"/tenants/{admin.tenant_id}/login-options"),
    ]
    assert all(r.status_code == 200 for r in responses)
    assert not any(secret in r.text for r in responses)
    assert secret not in caplog.text

    taken = await stack.http.post(path, json=body, headers=admin.cookie)
    assert taken.status_code == 409
    assert taken.json()["error"]["details"][0]["reason"] == "AUTH_CONNECTOR_NAME_TAKEN"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "kind": "ldap"},
        {"name": "Bad Name", "kind": "password"},
        {"name": "weak", "kind": "password", "password": {"minLength": 4}},
        {
            "name": "sso",
            "kind": "oidc",
            "oidc": {"issuer": "http://plain.example", "clientId": "c", "clientSecret": "s"},
        },
        {"name": "sso", "kind": "oidc", "oidc": {"issuer": "https://id.example"}},
        {"name": "none"},
    ],
)
async def test_invalid_connectors_are_400(stack: Stack, body: dict[str, object]) -> None:
    admin = await signed_in(stack)
    response = await stack.http.post(
        f"/tenants/{admin.tenant_id}/auth-connectors", json=body, headers=admin.cookie
    )
    assert response.status_code == 400, response.text


async def test_login_options_show_enabled_connectors_only(stack: Stack) -> None:
    admin = await signed_in(stack)
    path = f"/tenants/{admin.tenant_id}/auth-connectors"
    created = await stack.http.post(
        path,
        json={
            "name": "sso",
            "kind": "oidc",
            "oidc": {"issuer": "https://id.example", "clientId": "c", "clientSecret": "s"},
        },
        headers=admin.cookie,
    )
    sso = created.json()["authConnector"]["authConnectorId"]
    options = (await stack.http.get(f"/tenants/{admin.tenant_id}/login-options")).json()["authConnectors"]
    assert sorted((o["name"], o["kind"], o["__type"]) for o in options) == [
        ("password", "password", "AuthConnectorPublic"),
        ("sso", "oidc", "AuthConnectorPublic"),
    ]
    await stack.http.post(f"{path}/{sso}/disable", headers=admin.cookie)
    options = (await stack.http.get(f"/tenants/{admin.tenant_id}/login-options")).json()["authConnectors"]
    assert [o["name"] for o in options] == ["password"]
    deleted = await stack.http.delete(f"{path}/{sso}", headers=admin.cookie)
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert (await stack.http.get(f"{path}/{sso}", headers=admin.cookie)).status_code == 404


async def test_admins_update_their_tenant(stack: Stack) -> None:
    admin = await signed_in(stack)
    path = f"/tenants/{admin.tenant_id}"
    renamed = await stack.http.patch(path, json={"displayName": " Renamed "}, headers=admin.cookie)
    assert renamed.status_code == 200
    assert renamed.json()["tenant"]["displayName"] == "Renamed"
    assert renamed.json()["tenant"]["slug"] == admin.tenant.slug
    bad = await stack.http.patch(path, json={"slug": "Not A Slug"}, headers=admin.cookie)
    assert bad.status_code == 400
    unknown = await stack.http.patch(path, json={"owner": "me"}, headers=admin.cookie)
    assert unknown.status_code == 400


async def test_users_create_command_reads_the_password_from_standard_input(stack: Stack) -> None:
    tenant = await new_tenant(stack)
    env = {**os.environ, "CENTRAL_HOME": str(stack.config.home), "CENTRAL_AUTH_ADDR": stack.auth_address}
    central = str(Path(sys.executable).parent / "central")
    process = await asyncio.create_subprocess_exec(
        central, "users", "create", "--tenant", tenant.tenant_id, "--email", "ops@example.com",
        "--display-name", "Ops", "--role", "admin",
        env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate(f"{PASSWORD}\n".encode())
    assert process.returncode == 0, stderr.decode()
    user = json.loads(stdout)["tenantUser"]
    assert (user["__type"], user["email"], user["role"]) == ("TenantUser", "ops@example.com", "admin")
    assert PASSWORD not in stdout.decode() + stderr.decode()
    assert (await login(stack, tenant.tenant_id, "ops@example.com", PASSWORD)).status_code == 200
