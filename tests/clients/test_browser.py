"""The sign-in page in a real browser: Debian's Chromium driven by playwright-core.

HTTPS on loopback with a certificate this test makes: the `__Host-` cookie must be Secure, and
a browser keeps a Secure cookie only from a secure context. Chromium counts http://localhost as
one, but the gateway here is served on 127.0.0.1 and the check is meant to hold as deployed,
so the test serves the gateway over real TLS (the browser context accepts the test's own
certificate). The other origin that posts the cross-site form is plain HTTP on `localhost`:
another site. `make install` installs Chromium (apt) and playwright-core (npm).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from common.container import Container
from services.gateway.server import build_app
from tests.clients.test_typescript_client import CLIENT
from tests.support.actors import PASSWORD
from tests.support.stack import Stack, serving

CHROMIUM = os.environ.get("CENTRAL_CHROMIUM", "/usr/bin/chromium")


async def make_certificate(directory: Path) -> tuple[Path, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    openssl = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", str(key), "-out", str(cert),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await openssl.communicate()
    assert openssl.returncode == 0, errors.decode()
    return key, cert


def https_gateway(stack: Stack, key: Path, cert: Path) -> AbstractAsyncContextManager[str]:
    """A second gateway on the session's services, over TLS; yields its base URL."""
    return serving(build_app(Container.create(stack.config)), tls=(key, cert))


@asynccontextmanager
async def other_site(form_target: str) -> AsyncIterator[str]:
    """Another site's page: one plain form that posts to `form_target`."""
    page = (
        f'<!doctype html><form method="post" action="{form_target}">'
        '<input name="x" value="1"><button type="submit">go</button></form>'
    ).encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n"
            + f"content-length: {len(page)}\r\n\r\n".encode()
            + page
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://localhost:{port}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("node"), reason="no Chromium or Node.js")
async def test_the_sign_in_page_in_chromium(stack: Stack, tmp_path: Path) -> None:
    slug = f"browser-{secrets.token_hex(4)}"
    email = f"ada@{slug}.example.com"
    signup = await stack.http.post(
        "/signup",
        json={
            "tenantSlug": slug,
            "tenantDisplayName": "Browser Inc.",
            "email": email,
            "password": PASSWORD,
            "displayName": "Ada Lovelace",
        },
    )
    assert signup.status_code == 200, signup.text
    key, cert = await make_certificate(tmp_path)
    async with https_gateway(stack, key, cert) as gateway, other_site(f"{gateway}/auth/logout") as other:
        node = await asyncio.create_subprocess_exec(
            "node", "--test", "test/browser/sign-in.browser.mjs",
            cwd=CLIENT,
            env={
                **os.environ,
                "CHROMIUM": CHROMIUM,
                "CENTRAL_URL": gateway,
                "OTHER_ORIGIN_URL": other,
                "TENANT_SLUG": slug,
                "USER_EMAIL": email,
                "USER_PASSWORD": PASSWORD,
                "USER_NAME": "Ada Lovelace",
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(node.communicate(), timeout=180)
    report = output.decode()
    assert node.returncode == 0, report
    assert "# fail 0" in report and "# pass 2" in report, report
