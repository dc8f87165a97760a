"""Whoever reaches Temporal cannot have the worker act for them: an unsigned or forged start
changes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from datetime import timedelta

import psycopg
import pytest
from temporalio import activity, workflow
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.converter import DataConverter
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from common.children import child_environment
from common.temporal.codec import EncryptingCodec
from common.temporal.signatures import ACTIVITY_REASON, HEADER, REASON, InputSignatures, encoded
from common.temporal_dev import temporal_binary
from services.identity.workflows.session_cleanup import SCHEDULE_ID
from services.identity.workflows.signup import SignupWorkflowInput
from tests.support.stack import Stack

SIGNUP_INPUT = {
    "email": "mallory@example.com",
    "display_name": "Mallory",
    "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
}


async def temporal_cli(stack: Stack, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        temporal_binary(), *args, "--address", str(stack.config.temporal_addr),
        env=child_environment(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def start_forged_signup(stack: Stack, slug: str, *extra: str) -> str:
    workflow_id = f"signup-{slug}"
    body = {"tenant_slug": slug, "tenant_display_name": "Forged", **SIGNUP_INPUT}
    await temporal_cli(
        stack, "workflow", "start", "--task-queue", "core", "--type", "SignupWorkflow",
        "--workflow-id", workflow_id, "--input", json.dumps(body), *extra,
    )  # fmt: skip
    return workflow_id


async def assert_refused_and_nothing_made(stack: Stack, workflow_id: str, slug: str) -> None:
    with pytest.raises(WorkflowFailureError) as caught:
        await asyncio.wait_for(stack.temporal.get_workflow_handle(workflow_id).result(), 10)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == REASON and cause.non_retryable
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        cursor = await conn.execute("SELECT count(*) FROM tenants.tenants WHERE slug = %s", (slug,))
        assert await cursor.fetchone() == (0,)


async def test_a_signup_started_through_the_temporal_cli_changes_nothing(stack: Stack) -> None:
    slug = f"forged-{secrets.token_hex(4)}"
    workflow_id = await start_forged_signup(stack, slug)
    await assert_refused_and_nothing_made(stack, workflow_id, slug)


async def test_a_signature_made_for_another_start_or_with_another_key_is_refused(stack: Stack) -> None:
    slug = f"forged-{secrets.token_hex(4)}"
    forged = SignupWorkflowInput(slug, "Forged", **SIGNUP_INPUT)
    # Signed with the right key, but for another workflow ID; then with a key Central does not hold.
    for signatures, signed_for in (
        (InputSignatures.load(stack.config), "workflow:signup-someone-else"),
        (InputSignatures(secrets.token_bytes(32)), f"workflow:signup-{slug}"),
    ):
        header = signatures.header("SignupWorkflow", signed_for, [forged]).data.decode()
        workflow_id = await start_forged_signup(stack, slug, "--headers", f"{HEADER}={header}")
        await assert_refused_and_nothing_made(stack, workflow_id, slug)


def test_a_signature_covers_the_type_the_id_and_every_byte_of_the_input() -> None:
    from temporalio.converter import default

    signatures = InputSignatures(secrets.token_bytes(32))
    converter = default().payload_converter
    good = SignupWorkflowInput("acme", "Acme", **SIGNUP_INPUT)
    header = signatures.header("SignupWorkflow", "workflow:signup-acme", [good]).data
    args = encoded([good], converter)
    assert signatures.verify("SignupWorkflow", "signup-acme", args, header)
    assert not signatures.verify("SignupWorkflow", "signup-acme", args, None)
    assert not signatures.verify("SessionCleanupWorkflow", "signup-acme", args, header)
    assert not signatures.verify("SignupWorkflow", "signup-acme-2", args, header)
    other = SignupWorkflowInput("acme", "Acme", **{**SIGNUP_INPUT, "email": "eve@example.com"})
    assert not signatures.verify("SignupWorkflow", "signup-acme", encoded([other], converter), header)
    # A schedule's action is signed for every run it starts: its ID, a dash and the time.
    scheduled = signatures.header("SessionCleanupWorkflow", "schedule:cleanup", [good]).data
    assert signatures.verify("SessionCleanupWorkflow", "cleanup-2026-01-01T00:00:00Z", args, scheduled)
    assert not signatures.verify("SessionCleanupWorkflow", "cleanupx", args, scheduled)


async def test_a_run_the_cleanup_schedule_starts_is_signed_and_runs(stack: Stack) -> None:
    handle = stack.temporal.get_schedule_handle(SCHEDULE_ID)
    before = len((await handle.describe()).info.recent_actions)
    await handle.trigger()
    for _ in range(100):
        recent = (await handle.describe()).info.recent_actions
        if len(recent) > before:
            break
        await asyncio.sleep(0.1)
    assert len(recent) > before, "the schedule started nothing"
    started = recent[-1].action
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    result = await stack.temporal.get_workflow_handle(started.workflow_id).result()
    assert "deleted" in result


def test_during_a_rotation_a_start_signed_under_the_previous_secret_still_runs() -> None:
    from temporalio.converter import default

    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    good = SignupWorkflowInput("acme", "Acme", **SIGNUP_INPUT)
    header = InputSignatures(old).header("SignupWorkflow", "workflow:signup-acme", [good]).data
    args = encoded([good], default().payload_converter)
    assert InputSignatures(new, (old,)).verify("SignupWorkflow", "signup-acme", args, header)
    assert not InputSignatures(new).verify("SignupWorkflow", "signup-acme", args, header)


# Whoever polls a task queue can complete a real workflow's tasks and schedule any activity.
RECORDED: list[str] = []


@activity.defn(name="test.record")
async def record(value: str) -> str:
    RECORDED.append(value)
    return value


@workflow.defn(name="TestSchedulesRecord", sandboxed=False)
class SchedulesRecord:
    @workflow.run
    async def run(self, value: str) -> str:
        result: str = await workflow.execute_activity(
            "test.record",
            value,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


async def test_an_activity_a_verified_workflow_schedules_runs(stack: Stack) -> None:
    RECORDED.clear()
    queue = f"signed-activities-{secrets.token_hex(4)}"
    async with Worker(stack.temporal, task_queue=queue, workflows=[SchedulesRecord], activities=[record]):
        result = await stack.temporal.execute_workflow(
            SchedulesRecord.run, "signed", id=f"record-{secrets.token_hex(4)}", task_queue=queue
        )
    assert (result, RECORDED) == ("signed", ["signed"])


async def test_an_activity_scheduled_by_a_workflow_worker_of_someone_else_is_refused(stack: Stack) -> None:
    # Someone else answers the workflow tasks (even holding the payload key), and schedules an
    # activity that Central's worker runs: it does not, since nothing signed its input.
    RECORDED.clear()
    queue = f"forged-activities-{secrets.token_hex(4)}"
    converter = dataclasses.replace(DataConverter.default, payload_codec=EncryptingCodec.load(stack.config))
    someone = await Client.connect(
        str(stack.config.temporal_addr), namespace=stack.config.temporal_namespace, data_converter=converter
    )
    async with (
        Worker(someone, task_queue=queue, workflows=[SchedulesRecord]),
        Worker(stack.temporal, task_queue=queue, activities=[record]),
    ):
        with pytest.raises(WorkflowFailureError) as caught:
            await someone.execute_workflow(
                SchedulesRecord.run, "forged", id=f"record-{secrets.token_hex(4)}", task_queue=queue
            )
    failed_step = caught.value.cause
    assert isinstance(failed_step, ActivityError)
    refusal = failed_step.cause
    assert isinstance(refusal, ApplicationError)
    assert refusal.type == ACTIVITY_REASON and refusal.non_retryable
    assert RECORDED == []
