"""Tenant users and auth connectors through the gateway and over gRPC."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Awaitable
from functools import partial
from pathlib import Path

import grpc
import httpx
import pytest

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from services.tenants.ids import TenantIds
from tests.support.actors import (
    COOKIE,
    PASSWORD,
    login,
    new_tenant,
    new_user,
    session_token,
    signed_in,
)
from tests.support.races import race
from tests.support.stack import Stack


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
        # The query sent again beside its cursor must be the cursor's own (AIP-158).
        {"cursor": first, "limit": "1", "order": "LIST_ORDER_NEWEST_FIRST"},
    ):
        bad = await stack.http.get(path, params=params, headers=admin.cookie)
        assert bad.status_code == 400, (params, bad.text)
    # Only the page size may change from page to page.
    resumed = await stack.http.get(path, params={"cursor": first, "limit": "3"}, headers=admin.cookie)
    assert resumed.status_code == 200, resumed.text
    assert [u["tenantUserId"] for u in resumed.json()["tenantUsers"]] == seen[1:4]
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
        "scopes": ["openid", "email", "profile"],
        "allowedEmailDomains": [],
        "jitProvisioning": False,
        "defaultRole": "member",
        "clientAuthMethod": "client_secret_basic",
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


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["status"], error["details"][0]["reason"]


async def test_offboarding_ends_every_session_of_the_user_at_once(stack: Stack) -> None:
    admin = await signed_in(stack)
    leaver = await signed_in(stack, role="member", tenant=admin.tenant)
    second = session_token(await login(stack, admin.tenant_id, leaver.user.email, PASSWORD))
    path = f"/tenants/{admin.tenant_id}/users/{leaver.user.tenant_user_id}"
    for cookie in (leaver.cookie, {"cookie": f"{COOKIE}={second}"}):
        assert (await stack.http.get("/me", headers=cookie)).status_code == 200

    response = await stack.http.delete(path, headers=admin.cookie)
    assert (response.status_code, response.json()) == (200, {})
    # No waiting: by the time the answer comes, no session of theirs works.
    for cookie in (leaver.cookie, {"cookie": f"{COOKIE}={second}"}):
        assert (await stack.http.get("/me", headers=cookie)).status_code == 401
    assert (await stack.http.get(path, headers=admin.cookie)).status_code == 404
    assert (await stack.http.delete(path, headers=admin.cookie)).status_code == 404
    assert (await stack.http.get("/me", headers=admin.cookie)).status_code == 200


async def test_the_last_admin_cannot_offboard_themself(stack: Stack) -> None:
    admin = await signed_in(stack)
    await new_user(stack, admin.tenant_id, role="member")
    self_path = f"/tenants/{admin.tenant_id}/users/{admin.user.tenant_user_id}"
    refused = await stack.http.delete(self_path, headers=admin.cookie)
    assert refusal(refused) == (400, "FAILED_PRECONDITION", "LAST_ADMIN"), refused.text
    assert (await stack.http.get("/me", headers=admin.cookie)).status_code == 200

    # With a second admin, either may go; then the one left is the last again.
    second = await signed_in(stack, tenant=admin.tenant)
    gone = await stack.http.delete(self_path, headers=admin.cookie)
    assert gone.status_code == 200, gone.text
    second_path = f"/tenants/{admin.tenant_id}/users/{second.user.tenant_user_id}"
    assert refusal(await stack.http.delete(second_path, headers=second.cookie))[2] == "LAST_ADMIN"


async def test_two_admins_offboarding_each_other_at_once_leave_one(stack: Stack) -> None:
    first = await signed_in(stack)
    second = await signed_in(stack, tenant=first.tenant)
    users = f"/tenants/{first.tenant_id}/users"
    responses = await race(
        stack.database_url,
        "auth.tenant_users",
        [
            lambda: stack.http.delete(f"{users}/{second.user.tenant_user_id}", headers=first.cookie),
            lambda: stack.http.delete(f"{users}/{first.user.tenant_user_id}", headers=second.cookie),
        ],
    )
    assert sorted(r.status_code for r in responses) == [200, 400], [r.text for r in responses]
    [refused] = [r for r in responses if r.status_code == 400]
    assert refusal(refused) == (400, "FAILED_PRECONDITION", "LAST_ADMIN")
    stub = tenant_users_pb2_grpc.TenantUsersServiceStub(stack.auth_channel)
    listed = await stub.ListTenantUsers(
        tenant_users_pb2.ListTenantUsersInputOrCursor(tenant_id=first.tenant_id), timeout=5
    )
    assert [u.role for u in listed.tenant_users] == ["admin"]


async def test_the_last_enabled_connector_cannot_be_disabled_or_deleted(stack: Stack) -> None:
    admin = await signed_in(stack)
    connectors = f"/tenants/{admin.tenant_id}/auth-connectors"
    [password] = (await stack.http.get(connectors, headers=admin.cookie)).json()["authConnectors"]
    password_path = f"{connectors}/{password['authConnectorId']}"
    for refused in (
        await stack.http.post(f"{password_path}/disable", headers=admin.cookie),
        await stack.http.delete(password_path, headers=admin.cookie),
    ):
        assert refusal(refused) == (400, "FAILED_PRECONDITION", "LAST_LOGIN_CONNECTOR"), refused.text
    assert (await login(stack, admin.tenant_id, admin.user.email, PASSWORD)).status_code == 200

    sso = await _create_oidc_connector(stack, admin.cookie, connectors)
    assert (await stack.http.post(f"{password_path}/disable", headers=admin.cookie)).status_code == 200
    for refused in (
        await stack.http.post(f"{connectors}/{sso}/disable", headers=admin.cookie),
        await stack.http.delete(f"{connectors}/{sso}", headers=admin.cookie),
    ):
        assert refusal(refused)[2] == "LAST_LOGIN_CONNECTOR", refused.text
    # A disabled connector goes freely: nobody logs in with it anyway.
    assert (await stack.http.delete(password_path, headers=admin.cookie)).status_code == 200
    missing = await stack.http.post(f"{password_path}/disable", headers=admin.cookie)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("first", "second"), [("disable", "disable"), ("delete", "disable"), ("delete", "delete")]
)
async def test_the_last_two_connectors_taken_away_at_once_leave_one_enabled(
    stack: Stack, first: str, second: str
) -> None:
    admin = await signed_in(stack)
    connectors = f"/tenants/{admin.tenant_id}/auth-connectors"
    [password] = (await stack.http.get(connectors, headers=admin.cookie)).json()["authConnectors"]
    sso = await _create_oidc_connector(stack, admin.cookie, connectors)

    def take_away(action: str, connector_id: str) -> Awaitable[httpx.Response]:
        if action == "delete":
            return stack.http.delete(f"{connectors}/{connector_id}", headers=admin.cookie)
        return stack.http.post(f"{connectors}/{connector_id}/disable", headers=admin.cookie)

    responses = await race(
        stack.database_url,
        "auth.auth_connectors",
        [partial(take_away, first, password["authConnectorId"]), partial(take_away, second, sso)],
    )
    assert sorted(r.status_code for r in responses) == [200, 400], [r.text for r in responses]
    [refused] = [r for r in responses if r.status_code == 400]
    assert refusal(refused) == (400, "FAILED_PRECONDITION", "LAST_LOGIN_CONNECTOR")
    options = await stack.http.get(f"/tenants/{admin.tenant_id}/login-options")
    assert len(options.json()["authConnectors"]) == 1


async def _create_oidc_connector(stack: Stack, cookie: dict[str, str], connectors: str) -> str:
    created = await stack.http.post(
        connectors,
        json={
            "name": "sso",
            "kind": "oidc",
            "oidc": {"issuer": "https://id.example", "clientId": "c", "clientSecret": "s"},
        },
        headers=cookie,
    )
    assert created.status_code == 200, created.text
    connector_id: str = created.json()["authConnector"]["authConnectorId"]
    return connector_id
