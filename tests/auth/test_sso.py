"""Single sign-on against real OpenID providers (tests/support/sso.py), through the gateway,
driven as a browser drives it: redirects followed, the provider's own pages filled in."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.actors import COOKIE, Actor, new_user, signed_in
from tests.support.sso import Provider, browser, sign_in_through
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

    # The subject is now linked: a second login is the same user, even with no domain allowed.
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
        assert reason(response) == "RETURN_TO_INVALID"
