"""Which workflows each queue's worker runs; the dispatcher starts each only on its queue."""

from worker.queues import TaskQueue
from worker.workflows import identity

WORKFLOWS: dict[TaskQueue, list[type]] = {
    TaskQueue.CORE: [*identity.WORKFLOWS],
    # The media queue has no workflow yet; its worker joins `central up` with the first one.
    TaskQueue.MEDIA: [],
}
