"""OffboardingWorkflow: every session of a user ends, then the user is removed.

Both steps are idempotent, so a worker that dies half-way leaves a workflow that another
worker finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.identity.activities.accounts import AccountActivities, TenantUserRef


@dataclass(frozen=True)
class OffboardingInput:
    tenant_id: str
    tenant_user_id: str


@dataclass(frozen=True)
class OffboardingOutput:
    revoked_sessions: int
    removed: bool


STEP_TIMEOUT = timedelta(seconds=15)
# Offboarding must finish: transient failures are retried without limit.
STEP_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))


@workflow.defn(name="OffboardingWorkflow")
class OffboardingWorkflow:
    @workflow.run
    async def run(self, input: OffboardingInput) -> OffboardingOutput:
        user = TenantUserRef(input.tenant_id, input.tenant_user_id)
        revoked = await workflow.execute_activity_method(
            AccountActivities.revoke_sessions,
            user,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        removed = await workflow.execute_activity_method(
            AccountActivities.remove_user, user, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY
        )
        return OffboardingOutput(revoked_sessions=revoked.revoked, removed=removed.removed)
