"""POST /signup is throttled by client address, like a login: each costs a hash, a workflow and a tenant."""

from __future__ import annotations

import asyncio

from tests.identity.test_signup import signup_body
from tests.support.actors import fresh_address, new_tenant
from tests.support.stack import Stack


async def test_signups_from_one_address_are_throttled(stack: Stack) -> None:
    address = fresh_address()
    # A taken slug: each signup still counts, and answers quickly.
    taken = (await new_tenant(stack)).slug
    limit = stack.config.signup_max_per_address

    async def attempt() -> tuple[int, str]:
        response = await stack.http.post(
            "/signup", json=signup_body(taken), headers={"x-forwarded-for": address}
        )
        return response.status_code, response.json()["error"]["details"][0]["reason"]

    answers = await asyncio.gather(*(attempt() for _ in range(limit + 2)))
    assert answers.count((409, "TENANT_SLUG_TAKEN")) == limit, answers
    assert answers.count((429, "SIGNUP_THROTTLED")) == 2, answers
    # Another address is not held back.
    other = await stack.http.post(
        "/signup", json=signup_body(taken), headers={"x-forwarded-for": fresh_address()}
    )
    assert other.status_code == 409
