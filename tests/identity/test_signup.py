"""Signup, the identity saga on Temporal: end to end, races, compensation and the dispatcher."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.config import HostPort
from common.errors import UnavailableError
from common.ports import free_port
from common.temporal.dispatcher import TemporalDispatcher, WorkflowQueueError
from common.temporal.errors import calling
from common.temporal.queues import TaskQueue
from common.temporal_dev import start_dev_server
from services.auth.passwords import Passwords
from services.identity.activities.signup import (
    CreateAdminActivityInput,
    CreatedAdmin,
    CreatedTenant,
    CreateTenantActivityInput,
    SignupActivities,
)
from services.identity.workflows.signup import SignupWorkflow, SignupWorkflowInput
from tests.support.actors import COOKIE, PASSWORD, fresh_address, new_tenant, session_token
from tests.support.stack import Stack


def signup_worker(stack: Stack, queue: str) -> Worker:
    """A healthy worker for the signup saga on `queue`, with its real activities."""
    activities = SignupActivities(stack.channel, stack.auth_channel, 5.0)
    return Worker(
        stack.temporal,
        task_queue=queue,
        workflows=[SignupWorkflow],
        activities=[activities.create_tenant, activities.create_admin, activities.undo_signup],
    )


def signup_body(slug: str, **change: str) -> dict[str, str]:
    return {
        "tenantSlug": slug,
        "tenantDisplayName": "Acme Inc.",
        "email": "founder@example.com",
        "password": PASSWORD,
        "displayName": "Founder",
        **change,
    }


async def signup(stack: Stack, body: dict[str, Any]) -> Any:
    return await stack.http.post("/signup", json=body, headers={"x-forwarded-for": fresh_address()})


async def slug_lookup_error(stack: Stack, slug: str) -> grpc.StatusCode | None:
    stub = tenants_pb2_grpc.TenantsServiceStub(stack.channel)
    try:
        await stub.GetTenantBySlug(tenants_pb2.GetTenantBySlugInput(slug=slug), timeout=5)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return None


async def test_signup_makes_a_tenant_its_admin_and_a_working_cookie(stack: Stack) -> None:
    slug = f"new-{secrets.token_hex(4)}"
    response = await signup(stack, signup_body(slug))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"tenant", "tenantUser"}
    tenant, user = body["tenant"], body["tenantUser"]
    assert (tenant["__type"], tenant["slug"], tenant["displayName"]) == ("TenantPublic", slug, "Acme Inc.")
    assert (user["__type"], user["role"], user["email"], user["tenantId"]) == (
        "TenantUserPrivate",
        "admin",
        "founder@example.com",
        tenant["tenantId"],
    )
    token = session_token(response)
    assert token not in response.text
    cookie = {"cookie": f"{COOKIE}={token}"}
    me = await stack.http.get("/me", headers=cookie)
    assert me.json()["tenantUser"]["tenantUserId"] == user["tenantUserId"]
    own = await stack.http.get(f"/tenants/{tenant['tenantId']}", headers=cookie)
    assert own.json()["tenant"] == tenant
    connectors = await stack.http.get(f"/tenants/{tenant['tenantId']}/auth-connectors", headers=cookie)
    assert [c["name"] for c in connectors.json()["authConnectors"]] == ["password"]
    described = await stack.temporal.get_workflow_handle(f"signup-{slug}").describe()
    assert described.task_queue == "core"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tenantSlug": "-bad-"}, "tenant_slug"),
        ({"tenantDisplayName": " "}, "tenant_display_name"),
        ({"email": "nope"}, "email"),
        ({"password": "too short"}, "password"),
        ({"displayName": ""}, "display_name"),
    ],
)
async def test_bad_input_is_400_before_any_workflow_starts(
    stack: Stack, change: dict[str, str], field: str
) -> None:
    slug = change.get("tenantSlug", f"bad-{secrets.token_hex(4)}")
    response = await signup(stack, signup_body(slug, **change))
    assert response.status_code == 400, response.text
    [violations] = [d for d in response.json()["error"]["details"] if "fieldViolations" in d]
    assert [v["field"] for v in violations["fieldViolations"]] == [field]
    with pytest.raises(RPCError):
        await stack.temporal.get_workflow_handle(f"signup-{slug}").describe()


async def test_a_taken_slug_is_409(stack: Stack) -> None:
    tenant = await new_tenant(stack)
    response = await signup(stack, signup_body(tenant.slug))
    assert response.status_code == 409, response.text
    assert response.json()["error"]["details"][0]["reason"] == "TENANT_SLUG_TAKEN"


async def test_twenty_concurrent_signups_of_one_slug_give_one_winner(stack: Stack) -> None:
    slug = f"race-{secrets.token_hex(4)}"
    responses = await asyncio.gather(
        *(signup(stack, signup_body(slug, email=f"f{i}@example.com")) for i in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code not in (200, 409)]
    assert await slug_lookup_error(stack, slug) is None


async def test_a_signup_sent_again_answers_as_the_first_with_a_fresh_session(stack: Stack) -> None:
    slug = f"again-{secrets.token_hex(4)}"
    first = await signup(stack, signup_body(slug))
    assert first.status_code == 200, first.text
    # Its client saw a 504 (say) and sends the same signup again.
    again = await signup(stack, signup_body(slug))
    assert again.status_code == 200, again.text
    assert again.json()["tenant"] == first.json()["tenant"]
    # The same admin, who has now logged in.
    assert {**again.json()["tenantUser"], "lastLoginAt": None} == {
        **first.json()["tenantUser"],
        "lastLoginAt": None,
    }
    token = session_token(again)
    assert token != session_token(first)
    me = await stack.http.get("/me", headers={"cookie": f"{COOKIE}={token}"})
    assert me.json()["tenantUser"]["tenantUserId"] == first.json()["tenantUser"]["tenantUserId"]
    # Anyone else is told the slug is taken.
    for change in ({"email": "someone-else@example.com"}, {"password": PASSWORD + " but wrong"}):
        other = await signup(stack, signup_body(slug, **change))
        assert other.status_code == 409, other.text
        assert other.json()["error"]["details"][0]["reason"] == "TENANT_SLUG_TAKEN"
        assert "set-cookie" not in other.headers


async def test_a_signup_sent_again_while_the_first_runs_waits_for_it(stack: Stack) -> None:
    queue = f"again-{secrets.token_hex(4)}"
    slug = f"again-{secrets.token_hex(4)}"
    # The first signup's workflow, on a queue no worker polls yet: it runs, and waits.
    await stack.temporal.start_workflow(
        SignupWorkflow.run,
        SignupWorkflowInput(
            slug, "Acme Inc.", "founder@example.com", "Founder", await Passwords().hash(PASSWORD)
        ),
        id=f"signup-{slug}",
        task_queue=queue,
    )
    again = asyncio.create_task(signup(stack, signup_body(slug)))
    done, _ = await asyncio.wait([again], timeout=1)
    assert not done, (await again).text
    async with signup_worker(stack, queue):
        response = await asyncio.wait_for(again, 10)
    assert response.status_code == 200, response.text
    assert response.json()["tenant"]["slug"] == slug
    me = await stack.http.get("/me", headers={"cookie": f"{COOKIE}={session_token(response)}"})
    assert me.json()["tenantUser"]["email"] == "founder@example.com"


@pytest.mark.timeout(30)
async def test_a_start_while_temporal_is_down_is_unavailable_at_once(tmp_path: Path) -> None:
    address = HostPort("127.0.0.1", free_port())
    temporal = await start_dev_server(address, tmp_path / "temporal.db")
    dispatcher = TemporalDispatcher(await Client.connect(str(address)))
    temporal.terminate()
    await temporal.wait()
    workflow_input = SignupWorkflowInput("down", "Down", "d@example.com", "D", "$argon2id$x")
    started = time.monotonic()
    with pytest.raises(UnavailableError) as caught:
        await dispatcher.execute(SignupWorkflow.run, workflow_input, id="signup-down")
    assert caught.value.reason == "TEMPORAL_UNAVAILABLE"
    with pytest.raises(UnavailableError):
        await dispatcher.start(SignupWorkflow.run, workflow_input, id="signup-down")
    # Not after the client's retries (ten seconds), nor the caller's whole deadline.
    assert time.monotonic() - started < 1


async def test_the_dispatcher_refuses_a_workflow_on_another_queue(stack: Stack) -> None:
    dispatcher = TemporalDispatcher(stack.temporal)
    workflow_input = SignupWorkflowInput("x-slug", "X", "x@example.com", "X", "$argon2id$x")
    with pytest.raises(WorkflowQueueError, match="core"):
        await dispatcher.execute(SignupWorkflow.run, workflow_input, id="never", queue=TaskQueue.MEDIA)

    async def not_a_workflow(_: object, value: str) -> str:
        return value

    with pytest.raises(WorkflowQueueError, match="not a registered workflow"):
        await dispatcher.execute(not_a_workflow, "x", id="never")
    with pytest.raises(RPCError):
        await stack.temporal.get_workflow_handle("never").describe()


class FailingAfterTheTenant(SignupActivities):
    """The admin step fails for good, after the tenant exists."""

    @activity.defn(name="signup.create_admin")
    async def create_admin(self, input: CreateAdminActivityInput) -> CreatedAdmin:
        raise ApplicationError("injected failure", type="INJECTED", non_retryable=True)


async def test_a_failure_after_the_tenant_is_compensated(stack: Stack) -> None:
    activities = FailingAfterTheTenant(stack.channel, stack.auth_channel, 5.0)
    queue = f"compensation-{secrets.token_hex(4)}"
    slug = f"undo-{secrets.token_hex(4)}"
    async with Worker(
        stack.temporal,
        task_queue=queue,
        workflows=[SignupWorkflow],
        activities=[activities.create_tenant, activities.create_admin, activities.undo_signup],
    ):
        with pytest.raises(WorkflowFailureError) as caught:
            # Straight to the client: the dispatcher would rightly refuse this test queue.
            await stack.temporal.execute_workflow(
                SignupWorkflow.run,
                SignupWorkflowInput(
                    slug, "Undone", "u@example.com", "U", "$argon2id$v=19$m=19456,t=2,p=1$x$y"
                ),
                id=f"signup-{slug}",
                task_queue=queue,
            )
    assert isinstance(caught.value.cause, ApplicationError)
    assert caught.value.cause.type == "INJECTED"
    history = await stack.temporal.get_workflow_handle(f"signup-{slug}").fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled == ["signup.create_tenant", "signup.create_admin", "signup.undo"]
    assert await slug_lookup_error(stack, slug) == grpc.StatusCode.NOT_FOUND


class TenantsDownAtFirst(SignupActivities):
    """The tenant step's first attempt finds the tenants service down; the retry finds it up."""

    def __init__(self, stack: Stack, down: grpc.aio.Channel) -> None:
        super().__init__(stack.channel, stack.auth_channel, 5.0)
        self.down = tenants_pb2_grpc.TenantsServiceStub(down)

    @activity.defn(name="signup.create_tenant")
    async def create_tenant(self, input: CreateTenantActivityInput) -> CreatedTenant:
        if activity.info().attempt == 1:
            await calling(self.down.GetTenantBySlug(tenants_pb2.GetTenantBySlugInput(slug="x"), timeout=2))
        return await super().create_tenant(input)


async def test_a_retried_step_logs_one_line(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    # The stack's worker was made by start_worker, which set up this process's worker log.
    caplog.set_level(logging.DEBUG, logger="temporalio")
    queue = f"retried-{secrets.token_hex(4)}"
    slug = f"retried-{secrets.token_hex(4)}"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as down:
        activities = TenantsDownAtFirst(stack, down)
        async with Worker(
            stack.temporal,
            task_queue=queue,
            workflows=[SignupWorkflow],
            activities=[activities.create_tenant, activities.create_admin, activities.undo_signup],
        ):
            result = await stack.temporal.execute_workflow(
                SignupWorkflow.run,
                SignupWorkflowInput(
                    slug, "Retried", "r@example.com", "R", "$argon2id$v=19$m=19456,t=2,p=1$x$y"
                ),
                id=f"signup-{slug}",
                task_queue=queue,
            )
    assert result.tenant.slug == slug
    about_it = [
        r for r in caplog.records if f"signup-{slug}" in r.getMessage() and r.levelno >= logging.WARNING
    ]
    assert len(about_it) == 1, [r.getMessage() for r in about_it]
    [line] = about_it
    assert (line.name, line.exc_info, line.exc_text) == ("temporalio.activity", None, None)
    assert "\n" not in line.getMessage()
    assert "'attempt': 1" in line.getMessage()
    assert ": UNAVAILABLE: " in line.getMessage()


# Where the doomed worker is killed (see slow_worker): (tenant display name, admin display name).
KILLED_AT = {
    "before the admin rpc": ("Durable", "hold before"),
    # The rpc committed, the activity never reported: the retry with the same ID must find
    # the row it made, not a conflict.
    "after the tenant rpc committed": ("hold after", "Durable"),
    "after the admin rpc committed": ("Durable", "hold after"),
}


async def test_a_signup_survives_its_worker_being_killed_at_any_point_of_a_step(stack: Stack) -> None:
    queue = f"durability-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "CENTRAL_HOME": str(stack.config.home),
        "CENTRAL_TENANTS_ADDR": stack.tenants_address,
        "CENTRAL_AUTH_ADDR": stack.auth_address,
        "CENTRAL_TEMPORAL_ADDR": str(stack.config.temporal_addr),
    }
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.slow_worker", queue, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert doomed.stdout is not None
    handles = {}
    try:
        assert (await asyncio.wait_for(doomed.stdout.readline(), 30)).strip() == b"polling"
        for where, (tenant_name, admin_name) in KILLED_AT.items():
            slug = f"durable-{secrets.token_hex(4)}"
            handles[where] = await stack.temporal.start_workflow(
                SignupWorkflow.run,
                SignupWorkflowInput(
                    slug,
                    tenant_name,
                    f"{slug}@example.com",
                    admin_name,
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                ),
                id=f"signup-{slug}",
                task_queue=queue,
            )
        # All three steps are held at once: the worker dies in the middle of each.
        for _ in KILLED_AT:
            assert (await asyncio.wait_for(doomed.stdout.readline(), 30)).strip() == b"held"
    finally:
        doomed.kill()
        await doomed.wait()

    # A healthy worker takes over once the dead one's activities time out, and finishes each.
    async with signup_worker(stack, queue):
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles.values())), 60)
    tenants = tenants_pb2_grpc.TenantsServiceStub(stack.channel)
    users = tenant_users_pb2_grpc.TenantUsersServiceStub(stack.auth_channel)
    for where, result in zip(handles, results, strict=True):
        found = await tenants.GetTenantBySlug(
            tenants_pb2.GetTenantBySlugInput(slug=result.tenant.slug), timeout=5
        )
        assert found.tenant.tenant_id == result.tenant.tenant_id, where
        page = await users.ListTenantUsers(
            tenant_users_pb2.ListTenantUsersInputOrCursor(tenant_id=result.tenant.tenant_id), timeout=5
        )
        assert [(u.tenant_user_id, u.role) for u in page.tenant_users] == [
            (result.admin.tenant_user_id, "admin")
        ], where


async def test_no_password_token_or_cookie_reaches_a_log_line(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slug = f"logs-{secrets.token_hex(4)}"
    password = f"never-log-me-{secrets.token_hex(8)}"
    signed_up = await signup(stack, signup_body(slug, password=password))
    assert signed_up.status_code == 200
    token = session_token(signed_up)
    tenant_id = signed_up.json()["tenant"]["tenantId"]
    cookie = {"cookie": f"{COOKIE}={token}"}
    await stack.http.get("/me", headers=cookie)
    await stack.http.post(
        "/auth/password-login",
        json={"tenantId": tenant_id, "email": "founder@example.com", "password": password + "x"},
        headers={"x-forwarded-for": fresh_address()},
    )
    await stack.http.post("/auth/logout", headers=cookie)
    await stack.http.get("/me", headers=cookie)
    # Everything the processes logged; the test's own HTTP client (httpx) logs what it sends.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in records)
    assert any(r.name.startswith("central") for r in records), (
        "nothing was logged: the test would prove nothing"
    )
    assert password not in logged
    assert token not in logged
    assert COOKIE not in logged
