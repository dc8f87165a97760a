"""A workflow's queue is declared on the workflow; a domain registry and the dispatcher hold to it."""

from __future__ import annotations

import pytest
from temporalio import workflow

from common.temporal.queues import TaskQueue, WorkflowQueueError, queue_of, runs_on
from common.temporal.registry import DomainRegistry, workload
from services.identity.workflows.signup import SignupWorkflow
from worker.workflows import REGISTRIES


@runs_on(TaskQueue.MEDIA)
@workflow.defn(name="tests.MediaWorkflow")
class MediaWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return value


@workflow.defn(name="tests.Undeclared")
class UndeclaredWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return value


def test_a_workflow_declares_its_queue() -> None:
    assert queue_of(SignupWorkflow.run) is TaskQueue.CORE
    assert queue_of(MediaWorkflow.run) is TaskQueue.MEDIA
    with pytest.raises(WorkflowQueueError, match="not a registered workflow"):
        queue_of(UndeclaredWorkflow.run)


def test_a_registry_refuses_a_workflow_of_another_queue() -> None:
    with pytest.raises(WorkflowQueueError, match="runs on the media queue, not on core"):
        DomainRegistry("media", TaskQueue.CORE, [MediaWorkflow], activities=lambda _: [])
    with pytest.raises(WorkflowQueueError):
        DomainRegistry("media", TaskQueue.CORE, [UndeclaredWorkflow], activities=lambda _: [])


def test_a_queue_runs_every_registry_of_its_own_and_no_other() -> None:
    identity = next(registry for registry in REGISTRIES if registry.domain == "identity")
    core_share = DomainRegistry("identity", TaskQueue.CORE, identity.workflows, activities=lambda _: [])
    media = DomainRegistry("media", TaskQueue.MEDIA, [MediaWorkflow], activities=lambda _: [])
    container = None  # the activities above need none
    core = workload(TaskQueue.CORE, [core_share, media], container)  # type: ignore[arg-type]
    assert SignupWorkflow in core.workflows and MediaWorkflow not in core.workflows
    assert workload(TaskQueue.MEDIA, [core_share, media], container).workflows == [MediaWorkflow]  # type: ignore[arg-type]
