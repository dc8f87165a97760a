"""TemporalDispatcher: the only way Central code starts a workflow.

Each workflow declares its queue (`@runs_on`, common/temporal/queues.py); the dispatcher
refuses to start a workflow anywhere else, or one that declares none, and the worker refuses
to run a workflow on a queue it did not declare (common/temporal/registry.py). While
Temporal cannot be reached, a start fails at once with UNAVAILABLE, rather than after the
client's retries have used up the caller's deadline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from common.temporal.errors import temporal_unavailable
from common.temporal.queues import TaskQueue, WorkflowQueueError, queue_of

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
# A health check answers in milliseconds; one that takes longer finds Temporal in no state to run anything.
REACHABLE_WITHIN = timedelta(seconds=1)


@contextmanager
def _unavailable_when_unreachable() -> Iterator[None]:
    try:
        yield
    except RPCError as error:
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise temporal_unavailable() from error
        raise


__all__ = ["TemporalDispatcher", "WorkflowQueueError"]


class TemporalDispatcher:
    def __init__(self, client: Client) -> None:
        self.client = client

    def _queue(self, run: Callable[..., Any], queue: TaskQueue | None) -> TaskQueue:
        registered = queue_of(run)
        if queue is not None and queue is not registered:
            raise WorkflowQueueError(f"{run.__qualname__} runs on the {registered} queue, not on {queue}")
        return registered

    async def _ensure_reachable(self) -> None:
        """Raise UNAVAILABLE at once when Temporal does not answer a health check."""
        with _unavailable_when_unreachable():
            if await self.client.service_client.check_health(timeout=REACHABLE_WITHIN):
                return
        raise temporal_unavailable()

    async def start(
        self,
        run: Callable[[Any, InputT], Awaitable[OutputT]],
        input: InputT,
        *,
        id: str,
        queue: TaskQueue | None = None,
        already_running_ok: bool = False,
    ) -> None:
        """Start the workflow on its queue without waiting for it.

        With `already_running_ok`, a start while a workflow of that ID runs is a no-op.
        """
        task_queue = self._queue(run, queue)
        await self._ensure_reachable()
        with _unavailable_when_unreachable():
            await self.client.start_workflow(
                run,
                input,
                id=id,
                task_queue=task_queue,
                id_conflict_policy=(
                    WorkflowIDConflictPolicy.USE_EXISTING
                    if already_running_ok
                    else WorkflowIDConflictPolicy.FAIL
                ),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )

    async def ensure_schedule(
        self,
        run: Callable[[Any, InputT], Awaitable[OutputT]],
        input: InputT,
        *,
        schedule_id: str,
        every: timedelta,
        queue: TaskQueue | None = None,
    ) -> None:
        """Create the schedule, or bring an existing one up to date: safe at every start-up."""
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                run, input, id=schedule_id, task_queue=self._queue(run, queue)
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
            # A slow run is not stacked up behind: the next one waits its turn.
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )
        try:
            await self.client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await self.client.get_schedule_handle(schedule_id).update(replace)

    async def execute(
        self,
        run: Callable[[Any, InputT], Awaitable[OutputT]],
        input: InputT,
        *,
        id: str,
        queue: TaskQueue | None = None,
        rerun_succeeded: bool = True,
    ) -> OutputT:
        """Start the workflow on its queue and wait for its result.

        No execution timeout: Temporal would end the workflow wherever it stood, a saga's
        compensation included; each workflow bounds its own steps instead. A caller who stops
        waiting leaves it running to its end.

        One workflow per ID at a time: a second start of a running ID fails with
        WorkflowAlreadyStartedError; a finished ID may run again, unless its last run
        succeeded and not `rerun_succeeded` (then that error too; `outcome` has its result).
        """
        task_queue = self._queue(run, queue)
        await self._ensure_reachable()
        with _unavailable_when_unreachable():
            return await self.client.execute_workflow(
                run,
                input,
                id=id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=(
                    WorkflowIDReusePolicy.ALLOW_DUPLICATE
                    if rerun_succeeded
                    else WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
                ),
            )

    async def outcome(self, run: Callable[[Any, InputT], Awaitable[OutputT]], id: str) -> OutputT:
        """The result of the latest run of workflow `id`, once it has finished."""
        with _unavailable_when_unreachable():
            return await self.client.get_workflow_handle_for(run, id).result()
