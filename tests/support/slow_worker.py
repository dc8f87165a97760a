"""A worker process for the durability test: the core queue's workflows on a queue of the test's,
with signup steps held up, so that the test can kill the process in the middle of a step.

    python -m tests.support.slow_worker QUEUE

A step whose display name (the tenant's in the tenant step, the admin's in the admin step) is
`hold before` is held before its rpc is made; `hold after`, after its rpc committed and before
the activity reports. A held step prints `held` and waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import uvloop
from temporalio import activity
from temporalio.worker import Worker

from common.config import Config
from common.container import Container
from common.temporal.client import connect
from services.identity.activities.signup import (
    CreateAdminActivityInput,
    CreatedAdmin,
    CreatedTenant,
    CreateTenantActivityInput,
    SignupActivities,
)
from worker.activities import identity as identity_activities
from worker.workflows.identity import REGISTRY


async def hold_if(display_name: str, when: str) -> None:
    if display_name == f"hold {when}":
        print("held", flush=True)
        await asyncio.sleep(3600)
        raise AssertionError("the test kills this process long before")


class HeldUpSignupActivities(SignupActivities):
    @activity.defn(name="signup.create_tenant")
    async def create_tenant(self, input: CreateTenantActivityInput) -> CreatedTenant:
        await hold_if(input.display_name, "before")
        created = await super().create_tenant(input)
        await hold_if(input.display_name, "after")
        return created

    @activity.defn(name="signup.create_admin")
    async def create_admin(self, input: CreateAdminActivityInput) -> CreatedAdmin:
        await hold_if(input.display_name, "before")
        created = await super().create_admin(input)
        await hold_if(input.display_name, "after")
        return created


async def main(queue: str) -> None:
    config = Config.from_env()
    container = Container.create(config)
    held_up = HeldUpSignupActivities(
        container.system_channel("tenants"),
        container.system_channel("auth"),
        config.rpc_timeout_seconds,
    )
    held: list[Callable[..., Any]] = [held_up.create_tenant, held_up.create_admin]
    others = [
        a
        for a in identity_activities(container)
        if getattr(a, "__name__", "") not in {"create_tenant", "create_admin"}
    ]
    worker = Worker(
        await connect(config),
        task_queue=queue,
        workflows=list(REGISTRY.workflows),
        activities=[*others, *held],
    )
    print("polling", flush=True)
    await worker.run()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
