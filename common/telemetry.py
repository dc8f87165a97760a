"""OpenTelemetry for every process, configured by the standard OTEL_* variables.

OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER are `none` unless set (`console` or `otlp`,
the latter to OTEL_EXPORTER_OTLP_ENDPOINT); OTEL_SERVICE_NAME defaults to
`central-<process>`. When tracing is off nothing is installed: no interceptor, no
middleware, no patched driver, so it costs nothing on the hot path. When on, one request
is one trace across the gateway, the services, their PostgreSQL queries, and Temporal
workflows and activities. Metrics (request and rpc counts and latencies by route or
method and status, pool usage) go through OpenTelemetry's API, a no-op without a provider.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.config import ConfigError

_EXPORTERS = ("none", "console", "otlp")
# Never recorded, even when header capture is on (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*).
_SANITIZED_HEADERS = ("cookie", "set-cookie", "authorization")
_SANITIZE_VARIABLE = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"
_HIDDEN_QUERY = "central.query_string"


@dataclass
class Telemetry:
    enabled: bool
    service_name: str
    _provider: Any = field(default=None, repr=False)

    @classmethod
    def from_env(cls, process: str, env: Mapping[str, str] | None = None) -> Telemetry:
        env = os.environ if env is None else env
        exporter = (env.get("OTEL_TRACES_EXPORTER") or "none").strip().lower()
        if exporter not in _EXPORTERS:
            raise ConfigError(f"OTEL_TRACES_EXPORTER={exporter!r}: expected one of {', '.join(_EXPORTERS)}")
        service_name = env.get("OTEL_SERVICE_NAME") or f"central-{process}"
        metrics_exporter = (env.get("OTEL_METRICS_EXPORTER") or "none").strip().lower()
        if metrics_exporter not in _EXPORTERS:
            raise ConfigError(
                f"OTEL_METRICS_EXPORTER={metrics_exporter!r}: expected one of {', '.join(_EXPORTERS)}"
            )
        if metrics_exporter != "none":
            _install_metrics(metrics_exporter, service_name)
        if exporter == "none":
            return cls(False, service_name)
        return _installed(exporter, service_name)

    def grpc_server_interceptors(self) -> list[Any]:
        if not self.enabled:
            return []
        from opentelemetry.instrumentation.grpc import aio_server_interceptor

        return [aio_server_interceptor()]  # type: ignore[no-untyped-call]

    def grpc_client_interceptors(self) -> list[Any]:
        if not self.enabled:
            return []
        from opentelemetry.instrumentation.grpc import aio_client_interceptors

        return list(aio_client_interceptors())  # type: ignore[no-untyped-call]

    def temporal_interceptors(self) -> list[Any]:
        if not self.enabled:
            return []
        from temporalio.contrib.opentelemetry import TracingInterceptor

        return [TracingInterceptor()]

    def wrap_asgi(self, app: Any, tracer_provider: Any = None) -> Any:
        if not self.enabled:
            return app
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        sanitized = [*_SANITIZED_HEADERS, *_listed(os.environ.get(_SANITIZE_VARIABLE))]
        traced = OpenTelemetryMiddleware(
            _with_query(app), tracer_provider=tracer_provider, http_capture_headers_sanitize_fields=sanitized
        )
        return _without_query(traced)

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()


def _listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _without_query(traced: Any) -> Any:
    """Spans never see the query string (list cursors): it is set aside around the tracing."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            scope = {**scope, "query_string": b"", _HIDDEN_QUERY: scope.get("query_string", b"")}
        await traced(scope, receive, send)

    return app


def _with_query(inner: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if _HIDDEN_QUERY in scope:
            query = scope[_HIDDEN_QUERY]
            scope = {key: value for key, value in scope.items() if key != _HIDDEN_QUERY}
            scope["query_string"] = query
        await inner(scope, receive, send)

    return app


_installed_once: dict[str, Telemetry] = {}


def _installed(exporter: str, service_name: str) -> Telemetry:
    """Install the tracer provider and the PostgreSQL instrumentation, once per process."""
    if exporter in _installed_once:
        return _installed_once[exporter]
    from opentelemetry import trace
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # Before any pool opens, so that every connection's queries become spans.
    PsycopgInstrumentor().instrument(enable_commenter=False)
    telemetry = Telemetry(True, service_name, provider)
    _installed_once[exporter] = telemetry
    return telemetry


_metrics_installed: set[str] = set()


def _install_metrics(exporter: str, service_name: str) -> None:
    if _metrics_installed:
        return
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        MetricExporter,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    metric_exporter: MetricExporter
    if exporter == "console":
        metric_exporter = ConsoleMetricExporter()
    else:
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        metric_exporter = OTLPMetricExporter()
    reader = PeriodicExportingMetricReader(metric_exporter)
    metrics.set_meter_provider(
        MeterProvider(resource=Resource.create({SERVICE_NAME: service_name}), metric_readers=[reader])
    )
    _metrics_installed.add(exporter)
