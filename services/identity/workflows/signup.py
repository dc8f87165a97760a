"""SignupWorkflow: a tenant and its first admin, or neither.

The workflow chooses the IDs itself (deterministically, from the workflow's own clock and
random source), so that every activity can be retried without making a second tenant or
user. When a later step fails for good, the compensation removes what earlier steps made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from common.temporal.queues import TaskQueue, runs_on

with workflow.unsafe.imports_passed_through():
    from ulid import ULID

    from services.identity.activities.signup import (
        CreateAdminActivityInput,
        CreatedAdmin,
        CreatedTenant,
        CreateTenantActivityInput,
        SignupActivities,
        UndoSignupActivityInput,
    )


@dataclass(frozen=True)
class SignupWorkflowInput:
    tenant_slug: str
    tenant_display_name: str
    email: str
    display_name: str
    password_hash: str


@dataclass(frozen=True)
class SignupWorkflowOutput:
    tenant: CreatedTenant
    admin: CreatedAdmin


STEP_TIMEOUT = timedelta(seconds=15)
# Transient failures (a service restarting) are retried; final ones are non-retryable errors.
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=8,
)


@runs_on(TaskQueue.CORE)
@workflow.defn(name="SignupWorkflow")
class SignupWorkflow:
    def _new_id(self, prefix: str) -> str:
        # A ULID from the workflow's clock and random source: the same on every replay.
        millis = int(workflow.now().timestamp() * 1000)
        ulid = ULID.from_bytes(
            millis.to_bytes(6, "big") + workflow.random().getrandbits(80).to_bytes(10, "big")
        )
        return f"{prefix}-{ulid}"

    @workflow.run
    async def run(self, input: SignupWorkflowInput) -> SignupWorkflowOutput:
        tenant_id = self._new_id("tenant")
        tenant_user_id = self._new_id("tenantuser")
        tenant = await workflow.execute_activity_method(
            SignupActivities.create_tenant,
            CreateTenantActivityInput(tenant_id, input.tenant_slug, input.tenant_display_name),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        try:
            admin = await workflow.execute_activity_method(
                SignupActivities.create_admin,
                CreateAdminActivityInput(
                    tenant_id, tenant_user_id, input.email, input.display_name, input.password_hash
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
        except ActivityError as error:
            await workflow.execute_activity_method(
                SignupActivities.undo_signup,
                UndoSignupActivityInput(tenant_id, tenant_user_id),
                start_to_close_timeout=timedelta(seconds=15),
                # Compensation must finish: it retries until it does.
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
            )
            cause = error.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(
                    cause.message, *cause.details, type=cause.type, non_retryable=True
                ) from error
            raise ApplicationError("signup failed", type="SIGNUP_FAILED", non_retryable=True) from error
        return SignupWorkflowOutput(tenant=tenant, admin=admin)
