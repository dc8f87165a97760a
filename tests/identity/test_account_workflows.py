"""Session cleanup, on the real Temporal dev server and the real services."""

from __future__ import annotations

import secrets
from datetime import timedelta

import psycopg

from common.temporal.dispatcher import TemporalDispatcher
from services.identity.workflows.session_cleanup import (
    SCHEDULE_ID,
    SessionCleanupInput,
    SessionCleanupWorkflow,
)
from tests.support.actors import COOKIE, PASSWORD, login, session_token, signed_in
from tests.support.stack import Stack


async def test_the_cleanup_schedule_exists_after_the_worker_starts(stack: Stack) -> None:
    described = await stack.temporal.get_schedule_handle(SCHEDULE_ID).describe()
    action = described.schedule.action
    assert action.workflow == "SessionCleanupWorkflow"  # type: ignore[attr-defined]
    assert action.task_queue == "core"  # type: ignore[attr-defined]
    [interval] = described.schedule.spec.intervals
    assert interval.every == timedelta(seconds=stack.config.session_cleanup_every_seconds)


async def test_cleanup_deletes_only_sessions_that_ended_long_enough_ago(stack: Stack) -> None:
    admin = await signed_in(stack)
    tokens = [
        session_token(await login(stack, admin.tenant_id, admin.user.email, PASSWORD)) for _ in range(4)
    ]
    now = stack.clock.now()
    async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT session_id FROM auth.sessions WHERE tenant_id = ("
            " SELECT tenant_id FROM auth.tenant_users WHERE email = %s) ORDER BY session_id",
            (admin.user.email,),
        )
        ids = [row[0] for row in await cursor.fetchall()]
        assert len(ids) == 5
        expired_long_ago, revoked_long_ago, idle_long_ago, recently_revoked, alive = ids
        await conn.execute(
            "UPDATE auth.sessions SET expires_at = %s WHERE session_id = %s",
            (now - timedelta(days=10), expired_long_ago),
        )
        await conn.execute(
            "UPDATE auth.sessions SET revoked_at = %s WHERE session_id = %s",
            (now - timedelta(days=10), revoked_long_ago),
        )
        await conn.execute(
            "UPDATE auth.sessions SET last_seen_at = %s WHERE session_id = %s",
            (now - timedelta(days=10), idle_long_ago),
        )
        await conn.execute(
            "UPDATE auth.sessions SET revoked_at = %s WHERE session_id = %s",
            (now - timedelta(minutes=5), recently_revoked),
        )
        result = await TemporalDispatcher(stack.temporal).execute(
            SessionCleanupWorkflow.run,
            # Batches of one, so that the loop over batches runs too.
            SessionCleanupInput(ended_seconds_ago=3600, batch_size=1),
            id=f"session-cleanup-test-{secrets.token_hex(4)}",
        )
        assert result.deleted >= 3
        cursor = await conn.execute("SELECT session_id FROM auth.sessions WHERE session_id = ANY(%s)", (ids,))
        left = {row[0] for row in await cursor.fetchall()}
    assert left == {recently_revoked, alive}
    assert (await stack.http.get("/me", headers={"cookie": f"{COOKIE}={tokens[-1]}"})).status_code == 200
