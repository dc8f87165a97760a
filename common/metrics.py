"""Central's own metrics, on OpenTelemetry's API: a no-op until a meter provider is installed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

_meter = metrics.get_meter("central")

http_requests = _meter.create_counter(
    "central.http.server.requests", description="HTTP requests by route and status"
)
http_duration = _meter.create_histogram(
    "central.http.server.duration", unit="s", description="HTTP request latency by route and status"
)
rpc_requests = _meter.create_counter(
    "central.rpc.server.requests", description="rpcs served by method and status"
)
rpc_duration = _meter.create_histogram(
    "central.rpc.server.duration", unit="s", description="rpc latency by method and status"
)


PoolStats = Callable[[], dict[str, int]]


def observe_pools(pools: dict[str, PoolStats]) -> None:
    """Report each pool's size, idle connections and waiting requests (from psycopg_pool's stats)."""

    def gauge(metric: str, key: str) -> None:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            return [Observation(stats().get(key, 0), {"pool": name}) for name, stats in pools.items()]

        _meter.create_observable_gauge(metric, callbacks=[observe])

    gauge("central.db.pool.size", "pool_size")
    gauge("central.db.pool.idle", "pool_available")
    gauge("central.db.pool.waiting", "requests_waiting")


def observe_session_cache(lookups: Callable[[], tuple[int, int]]) -> None:
    """Report the gateway's session cache lookups so far, as (hits, misses)."""

    def observe(_: CallbackOptions) -> Iterable[Observation]:
        hits, misses = lookups()
        return [Observation(hits, {"result": "hit"}), Observation(misses, {"result": "miss"})]

    _meter.create_observable_counter("central.gateway.session_cache.lookups", callbacks=[observe])
