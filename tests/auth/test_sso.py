"""Single sign-on against real OpenID providers (tests/support/sso.py), through the gateway,
driven as a browser drives it: redirects followed, the provider's own pages filled in."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg

from common.ports import free_port
from tests.support.actors import COOKIE, Actor, new_user, signed_in
from tests.support.sso import CLIENT_SECRET, Provider, authorize, browser, sign_in_through
from tests.support.stack import Stack


async def add_oidc_connector(stack: Stack, admin: Actor, provider: Provider, **config: Any) -> dict[str, Any]:
    body = {
        "name": f"sso-{secrets.token_hex(3)}",
        "kind": "oidc",
        "oidc": {
            "issuer": provider.issuer,
            "clientId": provider.client_id,
            "clientSecret": provider.client_secret,
            "allowedEmailDomains": ["sso.example"],
            **config,
        },
    }
    response = await stack.http.post(
        f"/tenants/{admin.tenant_id}/auth-connectors", json=body, headers=admin.cookie
    )
    assert response.status_code == 200, response.text
    connector: dict[str, Any] = response.json()["authConnector"]
    return connector


def start_url(stack: Stack, connector: dict[str, Any], return_to: str = "/welcome") -> str:
    return f"{stack.gateway_url}/auth/oidc/{connector['authConnectorId']}/start?returnTo={return_to}"


def reason(response: httpx.Response) -> str:
    details = response.json()["error"]["details"]
    return str(next(d["reason"] for d in details if "reason" in d))


async def me(stack: Stack, http: httpx.AsyncClient) -> dict[str, Any]:
    token = http.cookies.get(COOKIE)
    assert token, "no session cookie"
    response = await stack.http.get("/me", headers={"cookie": f"{COOKIE}={token}"})
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()["tenantUser"]
    return user


async def test_a_linked_login_ends_with_the_session_cookie_and_a_302_to_return_to(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    email = f"ada-{secrets.token_hex(3)}@sso.example"
    ada = await new_user(stack, admin.tenant_id, role="member", email=email)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])

    options = (await stack.http.get(f"/tenants/{admin.tenant_id}/login-options")).json()["authConnectors"]
    sso = next(o for o in options if o["authConnectorId"] == connector["authConnectorId"])
    assert sso["startUrl"] == f"/auth/oidc/{connector['authConnectorId']}/start"

    async with browser() as http:
        done = await sign_in_through(http, start_url(stack, connector, "/welcome?tab=1"), email)
        assert done.status_code == 302, done.text
        assert done.headers["location"] == "/welcome?tab=1"
        assert "HttpOnly" in done.headers["set-cookie"]
        user = await me(stack, http)
    assert user["tenantUserId"] == ada.tenant_user_id

    # The subject is now linked: a second login finds the same user through it.
    async with browser() as http:
        again = await sign_in_through(http, start_url(stack, connector), email)
        assert again.status_code == 302
        assert (await me(stack, http))["tenantUserId"] == ada.tenant_user_id


async def test_the_start_answers_a_302_to_the_provider_with_pkce_state_and_nonce(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with browser() as http:
        response = await http.get(start_url(stack, connector))
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}" == oidc_providers[0].issuer
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [stack.config.public_url + "/auth/oidc/callback"]
    assert query["scope"] == ["openid email profile"]
    assert all(len(query[name][0]) >= 32 for name in ("state", "nonce", "code_challenge"))
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-central-prelogin=")
    assert all(part in cookie for part in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=600"))


async def test_return_to_is_a_path_on_this_origin_only(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    for bad in (
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "evil",
        "/\r\nX-Evil: 1",
        "/ space",
    ):
        response = await stack.http.get(
            f"/auth/oidc/{connector['authConnectorId']}/start", params={"returnTo": bad}
        )
        assert response.status_code == 400, (bad, response.text)
        # The rule is the proto's, so the guard names the field before the flow starts.
        violations = [d for d in response.json()["error"]["details"] if "fieldViolations" in d]
        assert [v["field"] for v in violations[0]["fieldViolations"]] == ["return_to"], bad


async def test_a_new_verified_user_is_provisioned_only_when_the_connector_says_so(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    email = f"grace-{secrets.token_hex(3)}@sso.example"
    closed = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with browser() as http:
        refused = await sign_in_through(http, start_url(stack, closed), email)
    assert refused.status_code == 403, refused.text
    assert reason(refused) == "OIDC_USER_NOT_ALLOWED"

    jit = await add_oidc_connector(stack, admin, oidc_providers[0], jitProvisioning=True, defaultRole="admin")
    async with browser() as http:
        done = await sign_in_through(http, start_url(stack, jit), email)
        assert done.status_code == 302, done.text
        user = await me(stack, http)
    assert (user["email"], user["role"], user["tenantId"]) == (email, "admin", admin.tenant_id)


async def test_linking_is_refused_for_an_unverified_email_and_a_domain_not_allowed(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    # Users with these very emails exist: a look-alike at the provider must not become them.
    await new_user(stack, admin.tenant_id, role="member", email="unverified@sso.example")
    outsider = f"eve-{secrets.token_hex(3)}@elsewhere.example"
    await new_user(stack, admin.tenant_id, role="member", email=outsider)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0], jitProvisioning=True)
    async with browser() as http:
        unverified = await sign_in_through(http, start_url(stack, connector), "unverified@sso.example")
        assert COOKIE not in http.cookies
    assert unverified.status_code == 403, unverified.text
    assert reason(unverified) == "OIDC_EMAIL_NOT_VERIFIED"
    async with browser() as http:
        elsewhere = await sign_in_through(http, start_url(stack, connector), outsider)
        assert COOKIE not in http.cookies
    assert elsewhere.status_code == 403, elsewhere.text
    assert reason(elsewhere) == "OIDC_USER_NOT_ALLOWED"


async def test_a_tenants_connector_logs_nobody_into_another_tenant(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    first, second = await signed_in(stack), await signed_in(stack)
    email = f"bob-{secrets.token_hex(3)}@sso.example"
    bob = await new_user(stack, second.tenant_id, role="member", email=email)
    await add_oidc_connector(stack, second, oidc_providers[1])
    first_sso = await add_oidc_connector(stack, first, oidc_providers[0], jitProvisioning=True)
    async with browser() as http:
        done = await sign_in_through(http, start_url(stack, first_sso), email)
        assert done.status_code == 302, done.text
        user = await me(stack, http)
    # A user of the connector's own tenant, made there: never the other tenant's Bob.
    assert user["tenantId"] == first.tenant_id
    assert user["tenantUserId"] != bob.tenant_user_id


async def test_state_is_single_use_and_bound_to_the_browser_that_started(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    email = f"ann-{secrets.token_hex(3)}@sso.example"
    await new_user(stack, admin.tenant_id, role="member", email=email)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with browser() as http, browser() as other:
        callback = await authorize(http, start_url(stack, connector), email)
        # Another browser, without the pre-login cookie, then with one of its own.
        stolen = await other.get(callback)
        assert (stolen.status_code, reason(stolen)) == (400, "OIDC_STATE_MISSING")
        await other.get(start_url(stack, connector))
        stolen = await other.get(callback)
        assert (stolen.status_code, reason(stolen)) == (400, "OIDC_STATE_INVALID")

        forged = await http.get(callback.replace("state=", "state=x"))
        assert (forged.status_code, reason(forged)) == (400, "OIDC_STATE_INVALID")
        first = await http.get(callback)
        assert first.status_code == 302, first.text
        # The answer cleared the pre-login cookie; with a new flow's cookie, the state is still used.
        replayed = await http.get(callback)
        assert (replayed.status_code, reason(replayed)) == (400, "OIDC_STATE_MISSING")
        await http.get(start_url(stack, connector))
        replayed = await http.get(callback)
        assert (replayed.status_code, reason(replayed)) == (400, "OIDC_STATE_INVALID")


async def test_a_code_used_twice_is_refused_by_the_provider(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    email = f"cy-{secrets.token_hex(3)}@sso.example"
    await new_user(stack, admin.tenant_id, role="member", email=email)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with browser() as http:
        callback = await authorize(http, start_url(stack, connector), email)
        assert (await http.get(callback)).status_code == 302
        used_code = parse_qs(urlsplit(callback).query)["code"][0]
        # A new flow of the same browser, answered with the code already exchanged.
        second = await authorize(http, start_url(stack, connector), email)
        replay = second.replace(parse_qs(urlsplit(second).query)["code"][0], used_code)
        refused = await http.get(replay)
    assert refused.status_code == 401, refused.text
    assert reason(refused) == "OIDC_TOKEN_EXCHANGE_FAILED"


async def test_a_provider_error_and_a_disabled_connector_have_their_reasons(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with browser() as http:
        started = await http.get(start_url(stack, connector))
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        denied = await http.get(
            f"{stack.gateway_url}/auth/oidc/callback", params={"error": "access_denied", "state": state}
        )
    assert (denied.status_code, reason(denied)) == (401, "OIDC_PROVIDER_ERROR")

    path = f"/tenants/{admin.tenant_id}/auth-connectors/{connector['authConnectorId']}/disable"
    assert (await stack.http.post(path, headers=admin.cookie)).status_code == 200
    disabled = await stack.http.get(f"/auth/oidc/{connector['authConnectorId']}/start")
    assert (disabled.status_code, reason(disabled)) == (400, "OIDC_CONNECTOR_DISABLED")


async def test_a_provider_that_is_down_is_a_quick_503(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    down = Provider(f"http://127.0.0.1:{free_port()}", "central-a", CLIENT_SECRET)
    connector = await add_oidc_connector(stack, admin, down)
    started = time.monotonic()
    response = await stack.http.get(f"/auth/oidc/{connector['authConnectorId']}/start")
    assert (response.status_code, reason(response)) == (503, "OIDC_PROVIDER_UNAVAILABLE")
    assert time.monotonic() - started < stack.config.rpc_timeout_seconds


async def test_the_client_secret_is_stored_encrypted(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        cursor = await conn.execute(
            "SELECT config, config::text FROM auth.auth_connectors WHERE name = %s", (connector["name"],)
        )
        row = await cursor.fetchone()
    assert row is not None
    config, text = row
    assert CLIENT_SECRET not in text
    assert set(config["client_secret"]) == {"kid", "ciphertext"}


async def test_a_state_older_than_ten_minutes_is_refused(
    stack: Stack, oidc_providers: tuple[Provider, Provider]
) -> None:
    admin = await signed_in(stack)
    email = f"old-{secrets.token_hex(3)}@sso.example"
    await new_user(stack, admin.tenant_id, role="member", email=email)
    connector = await add_oidc_connector(stack, admin, oidc_providers[0])
    async with browser() as http:
        callback = await authorize(http, start_url(stack, connector), email)
        stack.clock.advance(timedelta(minutes=10, seconds=1))
        expired = await http.get(callback)
    assert (expired.status_code, reason(expired)) == (400, "OIDC_STATE_INVALID")
