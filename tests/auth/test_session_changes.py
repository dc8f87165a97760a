"""Auth's hub of session changes: caught up first, then every committed NOTIFY, then its end."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from common.errors import UnavailableError
from services.auth.session_changes import SessionChangeHub


async def test_a_stream_is_caught_up_then_hears_commits_only_and_ends_with_its_listener(
    database_url: str,
) -> None:
    hub = SessionChangeHub(database_url)
    stream = hub.watch()
    try:
        first = await asyncio.wait_for(anext(stream), 5)
        assert first.caught_up
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            async with conn.transaction(force_rollback=True):
                await conn.execute("SELECT pg_notify('auth_session_changes', 'session_id=rolled-back')")
            async with conn.transaction():
                await conn.execute("SELECT pg_notify('auth_session_changes', 'tenant_user_id=u-1')")
        change = await asyncio.wait_for(anext(stream), 5)
        assert change.tenant_user_id == "u-1"
        await hub.close()
        with pytest.raises(UnavailableError):
            await asyncio.wait_for(anext(stream), 5)
    finally:
        await stream.aclose()
        await hub.close()
