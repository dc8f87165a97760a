"""Traces never hold a cookie, an authorization header or a query string (list cursors)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from common.telemetry import Telemetry

SECRET = "s3cr3t-value"


async def test_spans_hold_no_cookie_authorization_or_query(monkeypatch: pytest.MonkeyPatch) -> None:
    # Header capture switched on for every header, as an operator might.
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", ".*")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["query"] = scope["query_string"]
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", SECRET.encode())]}
        )
        await send({"type": "http.response.body", "body": b"{}"})

    traced = Telemetry(True, "test").wrap_asgi(app, tracer_provider=provider)
    scope = {
        "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/tenants",
        "raw_path": b"/tenants", "query_string": f"cursor={SECRET}".encode(), "root_path": "",
        "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 5000),
        "headers": [(b"cookie", SECRET.encode()), (b"authorization", SECRET.encode()), (b"x-other", b"kept")],
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: dict[str, Any]) -> None:
        return None

    await traced(scope, receive, send)
    # The application still gets its query string.
    assert seen["query"] == f"cursor={SECRET}".encode()
    spans = exporter.get_finished_spans()
    assert spans
    recorded = repr([dict(span.attributes or {}) for span in spans])
    assert "kept" in recorded  # capture is on
    assert SECRET not in recorded
