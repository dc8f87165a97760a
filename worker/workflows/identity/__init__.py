"""The identity domain's registry: its workflows, activities and schedule on the core queue."""

from __future__ import annotations

from datetime import timedelta

from common.config import Config
from common.temporal.dispatcher import TemporalDispatcher
from common.temporal.queues import TaskQueue
from common.temporal.registry import DomainRegistry
from services.identity.workflows.session_cleanup import (
    SCHEDULE_ID,
    SessionCleanupInput,
    SessionCleanupWorkflow,
)
from services.identity.workflows.signup import SignupWorkflow
from worker import activities

CLEANUP_BATCH = 1000


async def schedules(dispatcher: TemporalDispatcher, config: Config) -> None:
    await dispatcher.ensure_schedule(
        SessionCleanupWorkflow.run,
        SessionCleanupInput(config.session_cleanup_after_seconds, CLEANUP_BATCH),
        schedule_id=SCHEDULE_ID,
        every=timedelta(seconds=config.session_cleanup_every_seconds),
    )


REGISTRY = DomainRegistry(
    domain="identity",
    queue=TaskQueue.CORE,
    workflows=[SignupWorkflow, SessionCleanupWorkflow],
    activities=activities.identity,
    schedules=schedules,
)
