"""The one health-check call against a real gRPC server."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from common.grpc.health import serving


async def test_serving_is_what_the_server_reports_and_false_when_unreachable() -> None:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        await servicer.set("up.Service", health_pb2.HealthCheckResponse.SERVING)
        await servicer.set("down.Service", health_pb2.HealthCheckResponse.NOT_SERVING)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            assert await serving(channel)
            assert await serving(channel, "up.Service")
            assert not await serving(channel, "down.Service")
            assert not await serving(channel, "unknown.Service")
    finally:
        await server.stop(None)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        assert not await serving(channel, deadline_seconds=0.2)
