"""The yardstick: a FastAPI monolith doing the gateway's two reads in-process.

It validates the session cookie and reads the tenant with the same queries as the auth
and tenants services, against the same database, and answers the same JSON. `make bench`
runs it under uvicorn with 2 workers beside Central's own processes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from services.tenants.ids import TenantIds

COOKIE = "__Host-central-session"
pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
    os.environ["CENTRAL_DATABASE_URL"], min_size=1, max_size=10, open=False, kwargs={"autocommit": True}
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/tenants/{tenant_id}")
async def get_tenant(tenant_id: str, request: Request) -> dict[str, Any]:
    token = request.cookies.get(COOKIE)
    if not token:
        raise HTTPException(401)
    now = datetime.now(UTC)
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT s.session_id, s.tenant_id, s.tenant_user_id, u.role, s.last_seen_at"
            " FROM auth.sessions s JOIN auth.tenant_users u USING (tenant_user_id)"
            " WHERE s.token_hash = %s AND s.revoked_at IS NULL AND s.expires_at > %s AND s.last_seen_at > %s",
            (hashlib.sha256(token.encode()).digest(), now, now - timedelta(hours=24)),
        )
        session = await cursor.fetchone()
    if session is None:
        raise HTTPException(401)
    if not TenantIds.guard(tenant_id) or TenantIds.to_uuid(tenant_id) != session[1]:
        raise HTTPException(404)
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT tenant_id, slug, display_name, created_at FROM tenants.tenants WHERE tenant_id = %s",
            (session[1],),
        )
        tenant = await cursor.fetchone()
    if tenant is None:
        raise HTTPException(404)
    return {
        "tenant": {
            "tenantId": TenantIds.to_rich_id(tenant[0]),
            "slug": tenant[1],
            "displayName": tenant[2],
            "createdAt": tenant[3].isoformat().replace("+00:00", "Z"),
            "__type": "TenantPublic",
        }
    }
