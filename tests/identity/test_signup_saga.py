"""A signup always finishes or undoes completely: nothing cuts its compensation short."""

from __future__ import annotations

import secrets

from tests.identity.test_signup import signup, signup_body
from tests.support.stack import Stack


async def test_a_signup_has_no_execution_timeout_to_cut_its_compensation_short(stack: Stack) -> None:
    slug = f"saga-{secrets.token_hex(4)}"
    assert (await signup(stack, signup_body(slug))).status_code == 200
    described = await stack.temporal.get_workflow_handle(f"signup-{slug}").describe()
    config = described.raw_description.execution_config
    assert not config.HasField("workflow_execution_timeout") or (
        config.workflow_execution_timeout.ToTimedelta().total_seconds() == 0
    )
    assert config.workflow_run_timeout.ToTimedelta().total_seconds() == 0
