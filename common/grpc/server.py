"""Running one gRPC service: health, reflection, error mapping and a clean stop on SIGTERM."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from common.container import Container
from common.grpc.guard import Guard
from common.grpc.tls import LOOPBACK_PLAINTEXT, Transport
from common.logs import get_logger
from common.principal import PrincipalVerifier
from common.signals import stop_signalled

GRACE_SECONDS = 10.0
# A process whose rpcs take more (the media service's audio) says so in its registry entry.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def server_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    return [
        # Two servers must never share a port silently.
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", max_message_bytes),
    ]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int
    service_names: list[str] = field(default_factory=list)

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING first, then refuse new rpcs and let in-flight ones finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


Register = Callable[[grpc.aio.Server, Guard], list[str]]


async def start_server(
    address: str,
    register: Register,
    verifier: PrincipalVerifier,
    interceptors: Sequence[Any] = (),
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    *,
    transport: Transport = LOOPBACK_PLAINTEXT,
) -> RunningServer:
    """Start a server on `address` (port 0 picks a free one) with the services `register` adds.

    `register` adds its servicers, each wrapped by the guard, and returns their full names.
    """
    server = grpc.aio.server(
        options=server_options(max_message_bytes), interceptors=list(interceptors) or None
    )
    names = register(server, Guard(verifier))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = transport.listen(server, address)
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, health_servicer, port, names)


async def serve_until_signalled(
    name: str,
    address: str,
    register: Register,
    container: Container,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully and release the container's resources."""
    logger = get_logger(name)
    # Before listening: a SIGTERM that comes as soon as the port accepts must stop us cleanly.
    stopping = stop_signalled()
    running = await start_server(
        address,
        register,
        container.verifier,
        container.telemetry.grpc_server_interceptors(),
        max_message_bytes,
        transport=container.transport,
    )
    logger.info("serving %s on %s", ", ".join(running.service_names), address)
    await stopping.wait()
    logger.info("stopping: finishing in-flight rpcs (grace %.0fs)", GRACE_SECONDS)
    await running.stop(GRACE_SECONDS)
    await container.close()
    logger.info("stopped")
