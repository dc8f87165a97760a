"""The one health-check call: is a gRPC server (or one of its services) SERVING (grpc.health.v1)?"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2

# grpcio-health-checking's HealthStub is untyped; the method is spelled once, here.
_CHECK = "/grpc.health.v1.Health/Check"


async def serving(channel: grpc.aio.Channel, service: str = "", deadline_seconds: float = 1.0) -> bool:
    """True when the server behind `channel` reports `service` ("" for the whole server) SERVING.

    An unreachable server, a slow one and an unknown service are all a plain False.
    """
    check = channel.unary_unary(
        _CHECK,
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    try:
        response = await check(health_pb2.HealthCheckRequest(service=service), timeout=deadline_seconds)
    except grpc.aio.AioRpcError:
        return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
