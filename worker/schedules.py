"""The schedules each queue's worker creates, or brings up to date, when it starts."""

from __future__ import annotations

from datetime import timedelta

from common.config import Config
from services.identity.workflows.session_cleanup import (
    SCHEDULE_ID,
    SessionCleanupInput,
    SessionCleanupWorkflow,
)
from worker.dispatcher import TemporalDispatcher
from worker.queues import TaskQueue

CLEANUP_BATCH = 1000


async def ensure_schedules(dispatcher: TemporalDispatcher, config: Config, queue: TaskQueue) -> None:
    if queue is TaskQueue.CORE:
        await dispatcher.ensure_schedule(
            SessionCleanupWorkflow.run,
            SessionCleanupInput(config.session_cleanup_after_seconds, CLEANUP_BATCH),
            schedule_id=SCHEDULE_ID,
            every=timedelta(seconds=config.session_cleanup_every_seconds),
        )
