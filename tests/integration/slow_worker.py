"""A worker process for the durability test: the core queue's workflows on a queue of the test's,
with the admin step held up, so that the test can kill the process in the middle of a signup.

    python -m tests.integration.slow_worker QUEUE
"""

from __future__ import annotations

import asyncio
import sys

import uvloop
from temporalio import activity
from temporalio.worker import Worker

from common.config import Config
from common.container import Container
from services.identity.activities.signup import CreateAdminActivityInput, CreatedAdmin, SignupActivities
from worker.activities import activities
from worker.queues import TaskQueue
from worker.temporal import connect
from worker.workflows import WORKFLOWS


class HeldUpSignupActivities(SignupActivities):
    @activity.defn(name="signup.create_admin")
    async def create_admin(self, input: CreateAdminActivityInput) -> CreatedAdmin:
        print("admin step started", flush=True)
        await asyncio.sleep(3600)
        raise AssertionError("the test kills this process long before")


async def main(queue: str) -> None:
    config = Config.from_env()
    container = Container.create(config)
    held_up = HeldUpSignupActivities(
        container.system_channel(str(config.tenants_addr)),
        container.system_channel(str(config.auth_addr)),
        config.rpc_timeout_seconds,
    )
    others = [a for a in activities(container) if getattr(a, "__name__", "") != "create_admin"]
    worker = Worker(
        await connect(config),
        task_queue=queue,
        workflows=WORKFLOWS[TaskQueue.CORE],
        activities=[*others, held_up.create_admin],
    )
    print("polling", flush=True)
    await worker.run()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
