"""The read-write and read-only pools of one process."""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from common.db.executor import Database
from common.metrics import observe_pools


async def check_connection(conn: AsyncConnection[Any]) -> None:
    """Before a connection is lent: is it still alive? Raises when it is not.

    An idle connection has nothing to read, so a readable socket means the server closed
    it (a restart) or sent an error: only then does the check pay a round trip. A healthy
    connection costs one non-blocking poll, not a query per request.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("connection closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        await AsyncConnectionPool.check_connection(conn)


def _pool(
    url: str, name: str, max_size: int, statement_timeout: int
) -> AsyncConnectionPool[AsyncConnection[Any]]:
    return AsyncConnectionPool(
        url,
        name=name,
        min_size=1,
        max_size=max_size,
        open=False,
        # Autocommit: a lone statement commits by itself; `Database.transaction()` opens one explicitly.
        # A statement outlives its caller's deadline only up to this server-side ceiling.
        kwargs={"autocommit": True, "options": f"-c statement_timeout={statement_timeout * 1000}"},
        check=check_connection,
        # While the database is away, a request fails within this instead of hanging.
        timeout=2.0,
        reconnect_timeout=float("inf"),
    )


class Pools:
    def __init__(self, url: str, ro_url: str | None, max_size: int, statement_timeout: int = 30) -> None:
        self._rw = _pool(url, "rw", max_size, statement_timeout)
        self._ro = _pool(ro_url, "ro", max_size, statement_timeout) if ro_url and ro_url != url else None
        self.rw = Database(self._rw)
        # Without a replica, reads share the read-write pool.
        self.ro = Database(self._ro) if self._ro else self.rw

    async def open(self) -> None:
        await self._rw.open()
        if self._ro:
            await self._ro.open()
        observe_pools({pool.name: pool.get_stats for pool in (self._rw, self._ro) if pool is not None})

    async def close(self) -> None:
        await self._rw.close()
        if self._ro:
            await self._ro.close()
