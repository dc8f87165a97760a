"""The sign-in page's files (services/gateway/static.py): read once, served at / and /assets/."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from services.gateway.exchange import Exchange, build_stack
from services.gateway.static import CONTENT_SECURITY_POLICY, ServeStatic, load_page


def bundle(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<script type="module" src="/assets/page.js"></script>')
    (root / "assets" / "page.js").write_text("console.log(1)")
    (root / "assets" / "page.js.map").write_text("{}")
    return root


async def request(files: Any, method: str, path: str) -> tuple[int, dict[bytes, bytes], bytes, list[str]]:
    passed: list[str] = []
    sent: list[dict[str, Any]] = []

    async def routes(exchange: Exchange) -> None:
        passed.append(exchange.path)
        await exchange.respond(404, b"{}")

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    handler = build_stack([partial(ServeStatic, files=files)], routes)
    scope = {"method": method, "path": path, "raw_path": path.encode(), "headers": []}
    await handler(Exchange(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"], passed


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(tmp_path: Path) -> None:
    files = load_page(bundle(tmp_path))
    status, headers, body, passed = await request(files, "GET", "/")
    assert (status, passed) == (200, [])
    assert headers[b"content-type"] == b"text/html; charset=utf-8"
    assert headers[b"content-security-policy"] == CONTENT_SECURITY_POLICY
    assert b"script-src 'self';" in CONTENT_SECURITY_POLICY
    assert b"unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert body.startswith(b"<script")
    status, headers, body, _ = await request(files, "GET", "/assets/page.js")
    assert (status, body) == (200, b"console.log(1)")
    assert headers[b"content-type"] == b"text/javascript; charset=utf-8"
    status, _, body, _ = await request(files, "HEAD", "/assets/page.js")
    assert (status, body) == (200, b"")


async def test_anything_else_goes_on_to_the_routes(tmp_path: Path) -> None:
    files = load_page(bundle(tmp_path))
    for method, path in [("POST", "/"), ("GET", "/assets/page.js.map"), ("GET", "/me"), ("GET", "/assets/")]:
        status, _, _, passed = await request(files, method, path)
        assert (status, passed) == (404, [path])


def test_no_bundle_serves_nothing(tmp_path: Path) -> None:
    assert load_page(tmp_path / "missing") == {}
