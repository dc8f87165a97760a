"""The field rules of the protos, through the gateway: bad input is a 400 at once, naming its fields."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest
from temporalio.service import RPCError

from tests.identity.test_signup import signup_body
from tests.support.actors import PASSWORD, fresh_address, login, signed_in
from tests.support.stack import Stack


def violated_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    [bad_request] = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    return [v["field"] for v in bad_request["fieldViolations"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"displayName": "Found\x00er"}, "display_name"),
        ({"password": PASSWORD + "\x00"}, "password"),
        ({"email": "founder\x00@example.com"}, "email"),
    ],
)
async def test_nul_in_signup_is_a_400_at_once_and_starts_no_workflow(
    stack: Stack, change: dict[str, str], field: str
) -> None:
    slug = f"nul-{secrets.token_hex(4)}"
    started = time.monotonic()
    response = await stack.http.post(
        "/signup", json=signup_body(slug, **change), headers={"x-forwarded-for": fresh_address()}
    )
    assert violated_fields(response) == [field]
    assert time.monotonic() - started < 2, "refused at the boundary, not after the workflow's retries"
    with pytest.raises(RPCError):
        await stack.temporal.get_workflow_handle(f"signup-{slug}").describe()


async def test_a_3_kb_email_at_login_is_a_400(stack: Stack) -> None:
    actor = await signed_in(stack)
    response = await login(stack, actor.tenant_id, "a" * 3000 + "@example.com", PASSWORD)
    assert violated_fields(response) == ["email"]


@pytest.mark.parametrize("name", ["Ann \x1b[31mRed\x1b[0m", "Ann\u202eelpmaxE", "Ann\rExample", "\x07"])
async def test_control_characters_in_display_names_are_a_400(stack: Stack, name: str) -> None:
    actor = await signed_in(stack)
    tenant_path = f"/tenants/{actor.tenant_id}"
    patched = await stack.http.patch(tenant_path, json={"displayName": name}, headers=actor.cookie)
    assert violated_fields(patched) == ["display_name"]
    created = await stack.http.post(
        f"{tenant_path}/users",
        json={"email": f"x-{secrets.token_hex(3)}@example.com", "displayName": name, "role": "member"},
        headers=actor.cookie,
    )
    assert "display_name" in violated_fields(created)
    signup = await stack.http.post(
        "/signup",
        json=signup_body(f"cc-{secrets.token_hex(4)}", tenantDisplayName=name),
        headers={"x-forwarded-for": fresh_address()},
    )
    assert violated_fields(signup) == ["tenant_display_name"]
    # Nothing was stored: the tenant's name is the one it had.
    tenant = await stack.http.get(tenant_path, headers=actor.cookie)
    assert tenant.json()["tenant"]["displayName"] == actor.tenant.display_name


@pytest.mark.parametrize("order", ["5", "-1"])
async def test_an_unknown_order_is_a_400(stack: Stack, order: str) -> None:
    actor = await signed_in(stack)
    response = await stack.http.get(
        f"/tenants/{actor.tenant_id}/users", params={"order": order}, headers=actor.cookie
    )
    assert response.status_code == 400, response.text
    known = await stack.http.get(
        f"/tenants/{actor.tenant_id}/users", params={"order": "LIST_ORDER_NEWEST_FIRST"}, headers=actor.cookie
    )
    assert known.status_code == 200, known.text
