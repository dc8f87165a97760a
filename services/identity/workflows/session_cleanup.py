"""SessionCleanupWorkflow: deletes sessions that ended long enough ago, then login throttle
keys whose window has passed, in batches.

Run by a Temporal Schedule that the core worker creates or updates when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from common.temporal.queues import TaskQueue, runs_on

with workflow.unsafe.imports_passed_through():
    from services.identity.activities.accounts import (
        AccountActivities,
        DeleteEndedSessionsActivityInput,
        DeleteExpiredLoginThrottlesActivityInput,
    )

SCHEDULE_ID = "session-cleanup"
# Bounds one run's history; what is left waits for the next run.
MAX_BATCHES = 200


@dataclass(frozen=True)
class SessionCleanupInput:
    ended_seconds_ago: int
    batch_size: int


@dataclass(frozen=True)
class SessionCleanupOutput:
    deleted: int
    login_throttles_deleted: int = 0


@runs_on(TaskQueue.CORE)
@workflow.defn(name="SessionCleanupWorkflow")
class SessionCleanupWorkflow:
    @workflow.run
    async def run(self, input: SessionCleanupInput) -> SessionCleanupOutput:
        deleted = 0
        for _ in range(MAX_BATCHES):
            batch = await workflow.execute_activity_method(
                AccountActivities.delete_ended_sessions,
                DeleteEndedSessionsActivityInput(input.ended_seconds_ago, input.batch_size),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
            deleted += batch.deleted
            if batch.deleted < input.batch_size:
                break
        login_throttles_deleted = 0
        # A run begun before this step existed replays without it.
        if workflow.patched("delete-expired-login-throttles"):
            for _ in range(MAX_BATCHES):
                throttles = await workflow.execute_activity_method(
                    AccountActivities.delete_expired_login_throttles,
                    DeleteExpiredLoginThrottlesActivityInput(input.batch_size),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(maximum_attempts=5),
                )
                login_throttles_deleted += throttles.deleted
                if throttles.deleted < input.batch_size:
                    break
        return SessionCleanupOutput(deleted=deleted, login_throttles_deleted=login_throttles_deleted)
