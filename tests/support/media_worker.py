"""A media worker process for the test that kills one mid-job: the media queue's workload, as
`central worker --queue media` builds it (real activities, real PocketSphinx in its pool of
processes, the real database), polling a queue of the test's, which the session's own media
worker does not poll.

    python -m tests.support.media_worker QUEUE

It prints `polling` as it starts to poll, then logs as the worker does (CENTRAL_LOG_LEVEL) on
stderr, until the test kills its process group (its recognition processes with it).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import uvloop
from temporalio.worker import Worker

from common.config import Config
from common.container import Container
from common.logs import configure
from common.temporal.client import connect
from common.temporal.queues import TaskQueue
from common.temporal.registry import workload
from worker.main import GRACEFUL_SHUTDOWN, activity_slots
from worker.workflows import REGISTRIES


async def main(queue: str) -> None:
    config = Config.from_env()
    configure(config.log_level, config.log_format)
    container = Container.create(config, process="worker-media")
    work = workload(TaskQueue.MEDIA, REGISTRIES, container)
    worker = Worker(
        await connect(config),
        task_queue=queue,
        workflows=work.workflows,
        activities=work.activities,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        max_concurrent_activities=activity_slots(TaskQueue.MEDIA),
        # The test kills this worker: the workflows it held move to the next within a second,
        # rather than after the default 10 s on this one's sticky queue.
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    )
    print("polling", flush=True)
    await worker.run()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
