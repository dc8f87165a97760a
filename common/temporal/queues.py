"""Central's Temporal task queues, and the queue each workflow declares it runs on."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

W = TypeVar("W", bound=type)
# Set on a workflow's run method: its queue travels with the workflow, so that whoever starts
# it (the dispatcher, in any process) knows the queue without importing the worker.
_QUEUE_ATTRIBUTE = "__central_task_queue__"


class TaskQueue(StrEnum):
    """Central's Temporal task queues, one worker process each."""

    CORE = "core"
    MEDIA = "media"


class WorkflowQueueError(Exception):
    """A workflow was asked to run on a queue whose worker does not run it."""


def runs_on(queue: TaskQueue) -> Callable[[W], W]:
    """Class decorator, above `@workflow.defn`: the workflow runs on `queue` and nowhere else.

    Workflows' run methods are all named `run` (the house rules).
    """

    def declare(cls: W) -> W:
        setattr(cls.run, _QUEUE_ATTRIBUTE, queue)  # type: ignore[attr-defined]
        return cls

    return declare


def queue_of(run: Callable[..., Any]) -> TaskQueue:
    """The queue the workflow whose run method is `run` declared; WorkflowQueueError if none."""
    queue = getattr(run, _QUEUE_ATTRIBUTE, None)
    if not isinstance(queue, TaskQueue):
        raise WorkflowQueueError(f"{run.__qualname__} is not a registered workflow (no @runs_on queue)")
    return queue
