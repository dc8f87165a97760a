"""A process that is sent SIGTERM while it starts, for test_processes; it must exit 0.

    python -m tests.support.sigterm_at_start grpc|worker

grpc: a gRPC server, signalled while it registers its services, just before it listens.
worker: the core queue's worker, signalled while it connects to Temporal (CENTRAL_TEMPORAL_ADDR).
"""

from __future__ import annotations

import os
import signal
import sys
from unittest.mock import patch

import grpc
import uvloop
from temporalio.client import Client

from common.config import Config
from common.container import Container
from common.grpc.guard import Guard
from common.grpc.server import serve_until_signalled
from common.telemetry import Telemetry
from common.temporal.client import connect
from common.temporal.queues import TaskQueue
from worker.main import run_worker


def sigterm_myself() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


async def grpc_server(container: Container) -> None:
    def register(server: grpc.aio.Server, guard: Guard) -> list[str]:
        sigterm_myself()
        return []

    await serve_until_signalled("early", "127.0.0.1:0", register, container)


async def core_worker(container: Container) -> None:
    async def signalled_while_connecting(config: Config, telemetry: Telemetry | None = None) -> Client:
        sigterm_myself()
        return await connect(config, telemetry)

    with patch("worker.main.connect", signalled_while_connecting):
        await run_worker(container, TaskQueue.CORE)


if __name__ == "__main__":
    container = Container.create(Config.from_env())
    uvloop.run(grpc_server(container) if sys.argv[1] == "grpc" else core_worker(container))
