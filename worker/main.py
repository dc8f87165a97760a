"""`central worker --queue core|media`: one Temporal worker for one task queue, running every
domain registry of that queue (worker/workflows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from common.container import Container
from common.logs import get_logger
from common.signals import stop_signalled
from common.temporal.client import connect
from common.temporal.dispatcher import TemporalDispatcher
from common.temporal.queues import TaskQueue
from common.temporal.registry import DomainRegistry, workload
from services.media.settings import MediaSettings
from worker.logs import one_line_activity_failures
from worker.workflows import REGISTRIES

# On SIGTERM the worker stops polling and gives running activities this long to finish.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


async def start_worker(
    container: Container,
    client: Client,
    queue: TaskQueue,
    registries: Sequence[DomainRegistry] = REGISTRIES,
) -> Worker:
    """The queue's worker, its schedules in place; run it with `async with`."""
    one_line_activity_failures()
    work = workload(queue, registries, container)
    dispatcher = TemporalDispatcher(client)
    for ensure in work.schedules:
        await ensure(dispatcher, container.config)
    return Worker(
        client,
        task_queue=queue,
        workflows=work.workflows,
        activities=work.activities,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        max_concurrent_activities=activity_slots(queue),
    )


def activity_slots(queue: TaskQueue) -> int | None:
    """The media queue's jobs are CPU-bound: a worker runs only so many at once (its setting),
    so that one long file slows no other down and the rest wait their turn in the queue."""
    return MediaSettings.from_env().concurrency if queue is TaskQueue.MEDIA else None


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
