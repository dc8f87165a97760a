"""What one domain runs on one task queue: its workflows, its activities and its schedules.

Each domain exports one (worker/workflows/<domain>/__init__.py); `central worker --queue Q`
runs every registry of queue Q in one worker, as temporalio/samples-python runs one worker
per scenario.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from common.config import Config
from common.container import Container
from common.temporal.dispatcher import TemporalDispatcher
from common.temporal.queues import TaskQueue, WorkflowQueueError, queue_of

Activities = Callable[[Container], Sequence[Callable[..., Any]]]
Schedules = Callable[[TemporalDispatcher, Config], Awaitable[None]]


async def no_schedules(_: TemporalDispatcher, __: Config) -> None:
    return None


@dataclass(frozen=True)
class DomainRegistry:
    domain: str
    queue: TaskQueue
    workflows: Sequence[type]
    # Built from the container when the worker starts: activities hold channels and pools.
    activities: Activities
    # Created, or brought up to date, every time the queue's worker starts.
    schedules: Schedules = no_schedules

    def __post_init__(self) -> None:
        for cls in self.workflows:
            declared = queue_of(cls.run)  # type: ignore[attr-defined]
            if declared is not self.queue:
                raise WorkflowQueueError(
                    f"{cls.__qualname__} runs on the {declared} queue, not on {self.queue} ({self.domain})"
                )


@dataclass(frozen=True)
class QueueWorkload:
    """Every domain's share of one queue, as its worker runs it."""

    queue: TaskQueue
    workflows: list[type]
    activities: list[Callable[..., Any]]
    schedules: list[Schedules]


def workload(queue: TaskQueue, registries: Sequence[DomainRegistry], container: Container) -> QueueWorkload:
    mine = [registry for registry in registries if registry.queue is queue]
    return QueueWorkload(
        queue,
        [cls for registry in mine for cls in registry.workflows],
        [activity for registry in mine for activity in registry.activities(container)],
        [registry.schedules for registry in mine],
    )
