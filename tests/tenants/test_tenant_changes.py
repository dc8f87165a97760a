"""The tenants service's stream of changes: caught up first, then the tenant of every committed
change, and its end when a payload names nothing a gateway could drop."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import psycopg
import pytest

from common.errors import UnavailableError
from services.tenants.ids import TenantIds
from services.tenants.row_cache import CHANNEL, TenantChangeHub, TenantRowCache, announce


async def test_a_stream_hears_committed_changes_by_rich_id_and_ends_on_an_unreadable_one(
    database_url: str,
) -> None:
    hub = TenantChangeHub(database_url, TenantRowCache(10))
    stream = hub.watch()
    try:
        assert (await asyncio.wait_for(anext(stream), 5)).caught_up
        changed = uuid4()
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            async with conn.transaction(force_rollback=True):
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(uuid4())))
            async with conn.transaction():
                await announce(conn, changed)  # type: ignore[arg-type]
        change = await asyncio.wait_for(anext(stream), 5)
        assert change.tenant_id == TenantIds.to_rich_id(changed)
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute("SELECT pg_notify(%s, 'not-a-tenant')", (CHANNEL,))
        with pytest.raises(UnavailableError):
            await asyncio.wait_for(anext(stream), 5)
    finally:
        await stream.aclose()
        await hub.close()
