"""Request and rpc counts and latencies by route or method and status, and pool usage."""

from __future__ import annotations

from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from tests.support.stack import Stack


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


async def test_requests_rpcs_and_pools_are_measured(stack: Stack) -> None:
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    assert (await stack.http.get("/tenants/by-slug/nobody-here")).status_code == 404
    assert (await stack.http.get("/nowhere")).status_code == 404

    found = points(reader)
    http = {
        (p.attributes["http.route"], p.attributes["http.response.status_code"]): p.value
        for p in found["central.http.server.requests"]
    }
    assert http[("/tenants/by-slug/{slug}", 404)] >= 1
    assert http[("unmatched", 404)] >= 1
    [latency] = [
        p
        for p in found["central.http.server.duration"]
        if p.attributes["http.route"] == "/tenants/by-slug/{slug}"
    ]
    assert latency.count >= 1 and latency.sum > 0
    rpcs = {
        (p.attributes["rpc.method"], p.attributes["rpc.status"]) for p in found["central.rpc.server.requests"]
    }
    assert ("/central.tenants.v1.TenantsService/GetTenantBySlug", "NOT_FOUND") in rpcs
    assert any(p.value >= 1 for p in found["central.db.pool.size"])
