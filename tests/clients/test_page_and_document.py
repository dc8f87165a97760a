"""What the gateway serves for browsers and client generators: the sign-in page at / and the
OpenAPI document, which `central openapi` writes without a server, byte for byte."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from tests.support.stack import Stack

CENTRAL = str(Path(sys.executable).parent / "central")


async def test_central_openapi_writes_the_document_the_gateway_serves(stack: Stack, tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    command = await asyncio.create_subprocess_exec(CENTRAL, "openapi", "--output", str(output))
    assert await asyncio.wait_for(command.wait(), timeout=60) == 0
    served = await stack.http.get("/openapi.json")
    assert served.status_code == 200
    assert output.read_bytes() == served.content
    assert b'"/tenants/{tenantId}/users"' in served.content


async def test_the_sign_in_page_is_served_at_the_root_without_inline_script(stack: Stack) -> None:
    page = await stack.http.get("/")
    assert page.status_code == 200, "the page is built by `make install`"
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    for asset in re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text):
        assert (await stack.http.get(asset)).status_code == 200, asset
