"""`central worker --queue core|media`: one Temporal worker for one task queue."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from common.container import Container
from common.logs import get_logger
from common.signals import stop_signalled
from worker.activities import activities
from worker.dispatcher import TemporalDispatcher
from worker.logs import one_line_activity_failures
from worker.queues import TaskQueue
from worker.schedules import ensure_schedules
from worker.temporal import connect
from worker.workflows import WORKFLOWS

# On SIGTERM the worker stops polling and gives running activities this long to finish.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


async def start_worker(container: Container, client: Client, queue: TaskQueue) -> Worker:
    """The queue's worker, its schedules in place; run it with `async with`."""
    one_line_activity_failures()
    await ensure_schedules(TemporalDispatcher(client), container.config, queue)
    return Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS[queue],
        activities=activities(container),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_worker(container: Container, queue: TaskQueue) -> None:
    logger = get_logger(f"worker.{queue}")
    # First of all: a SIGTERM while connecting must stop the worker cleanly too.
    stopping = stop_signalled()
    client = await connect(container.config, container.telemetry)
    worker = await start_worker(container, client, queue)
    logger.info("polling task queue %s at %s", queue, container.config.temporal_addr)
    async with worker:
        await stopping.wait()
        logger.info("stopping: no new tasks; running activities get %s", GRACEFUL_SHUTDOWN)
    await container.close()
    logger.info("stopped")
