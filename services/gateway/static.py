"""The sign-in page: the bundle `make install` builds in clients/typescript/dist/page, served at `/`.

Static files only, read once at start-up: `GET /` is index.html, `GET /assets/<name>` a file
of assets/. No inline script anywhere, so the Content-Security-Policy allows scripts, styles
and requests from this origin alone. Without a bundle (an image built without the page)
those paths are 404 like any unknown path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.gateway.exchange import Exchange, Handler

# Where `make install` puts the page (clients/typescript/scripts/build.mjs).
PAGE_DIRECTORY = Path(__file__).resolve().parents[2] / "clients" / "typescript" / "dist" / "page"
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_CONTENT_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: bytes


def load_page(directory: Path = PAGE_DIRECTORY) -> dict[bytes, StaticFile]:
    """Every servable file of the bundle by its URL path; none when there is no bundle."""
    files: dict[bytes, StaticFile] = {}
    index = directory / "index.html"
    if index.is_file():
        files[b"/"] = StaticFile(index.read_bytes(), _CONTENT_TYPES[".html"])
    assets = directory / "assets"
    if assets.is_dir():
        for path in sorted(assets.iterdir()):
            content_type = _CONTENT_TYPES.get(path.suffix)
            if path.is_file() and content_type is not None:
                files[f"/assets/{path.name}".encode()] = StaticFile(path.read_bytes(), content_type)
    return files


class ServeStatic:
    """GET or HEAD of a file of the page; every other request goes on to the routes."""

    def __init__(self, app: Handler, files: dict[bytes, StaticFile]) -> None:
        self.app = app
        self.files = files

    async def __call__(self, exchange: Exchange) -> None:
        found = self.files.get(exchange.raw_path) if exchange.method in ("GET", "HEAD") else None
        if found is None:
            await self.app(exchange)
            return
        headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY),
            # Not content-hashed names: the browser asks again each time, cheaply.
            (b"cache-control", b"no-cache"),
        ]
        await exchange.respond(200, found.body, headers, content_type=found.content_type)
