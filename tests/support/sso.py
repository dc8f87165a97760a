"""Single sign-on in the tests: real OpenID providers (panva's oidc-provider, run by node from
tests/support/oidc/) and a browser that walks their login and consent pages.

`make install` runs `npm ci` there; the fixture runs it too when node_modules is missing.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from common.ports import free_port
from tests.support.stack import Stack

PROVIDER_DIR = Path(__file__).parent / "oidc"
CLIENT_SECRET = "a-client-secret-of-the-tests-0123456789"
# Logins with claims of their own; any other login is its own email, verified.
ACCOUNTS = {
    "unverified@sso.example": {"email": "unverified@sso.example", "email_verified": False},
}


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str


async def _start_provider(
    issuer_port: int, clients: list[dict[str, Any]]
) -> tuple[asyncio.subprocess.Process, Provider]:
    issuer = f"http://127.0.0.1:{issuer_port}"
    config = {"port": issuer_port, "issuer": issuer, "clients": clients, "accounts": ACCOUNTS}
    process = await asyncio.create_subprocess_exec(
        "node",
        str(PROVIDER_DIR / "provider.mjs"),
        json.dumps(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
    assert line.startswith(b"listening"), f"the OIDC provider did not start: {line!r}"
    client = clients[0]
    return process, Provider(issuer, client["client_id"], client["client_secret"])


@pytest.fixture(scope="session")
async def oidc_providers(stack: Stack) -> AsyncIterator[tuple[Provider, Provider]]:
    """Two real providers on two loopback ports, each with one client registered for this stack."""
    if not (PROVIDER_DIR / "node_modules").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the SSO tests (make install)"
        npm_ci = await asyncio.create_subprocess_exec(npm, "ci", "--no-audit", "--no-fund", cwd=PROVIDER_DIR)
        assert await npm_ci.wait() == 0, "npm ci failed in tests/support/oidc"
    redirect_uri = stack.config.public_url + "/auth/oidc/callback"
    processes, providers = [], []
    for name in ("a", "b"):
        client = {
            "client_id": f"central-{name}",
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }
        process, provider = await _start_provider(free_port(), [client])
        processes.append(process)
        providers.append(provider)
    yield providers[0], providers[1]
    for process in processes:
        process.terminate()
        await process.wait()


class _LoopbackPolicy(DefaultCookiePolicy):
    """A browser treats http://127.0.0.1 as a secure context: it sends Secure cookies there."""

    def return_ok_secure(self, cookie: Any, request: Any) -> bool:
        return True


def browser() -> httpx.AsyncClient:
    async def send_cookies(request: httpx.Request) -> None:
        # httpx copies the jar for each request into one with the default policy: redo it with ours.
        if "cookie" in request.headers:
            del request.headers["cookie"]
        client.cookies.set_cookie_header(request)

    client = httpx.AsyncClient(follow_redirects=False, timeout=10, event_hooks={"request": [send_cookies]})
    client.cookies.jar.set_policy(_LoopbackPolicy())
    return client


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post">(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def sign_in_through(http: httpx.AsyncClient, start_url: str, login: str) -> httpx.Response:
    """The whole login from `start_url`: Central's answer to the provider's redirect back."""
    return await http.get(await authorize(http, start_url, login))


async def authorize(http: httpx.AsyncClient, start_url: str, login: str) -> str:
    """Follow redirects from `start_url`, filling the provider's login and consent pages as `login`,
    up to the provider's redirect back to Central: its callback URL, not yet requested."""
    url, response = start_url, await http.get(start_url)
    origin = _origin(start_url)
    for _ in range(20):
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            if _origin(url) == origin:
                return url
            response = await http.get(url)
            continue
        form = _FORM.search(response.text) if response.status_code == 200 else None
        assert form is not None, f"{url} answered {response.status_code}: {response.text[:300]}"
        fields = dict(_HIDDEN.findall(form.group(2)))
        if fields.get("prompt") == "login":
            fields |= {"login": login, "password": "any"}
        url = urljoin(url, form.group(1))
        response = await http.post(url, data=fields)
    raise AssertionError("too many redirects")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
