"""The read-write and read-only pools of one process."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from common.db.executor import Database


def _pool(url: str, name: str, max_size: int) -> AsyncConnectionPool[AsyncConnection[Any]]:
    return AsyncConnectionPool(
        url,
        name=name,
        min_size=1,
        max_size=max_size,
        open=False,
        # Autocommit: a lone statement commits by itself; `Database.transaction()` opens one explicitly.
        kwargs={"autocommit": True},
        timeout=5.0,
    )


class Pools:
    def __init__(self, url: str, ro_url: str | None, max_size: int) -> None:
        self._rw = _pool(url, "rw", max_size)
        self._ro = _pool(ro_url, "ro", max_size) if ro_url and ro_url != url else None
        self.rw = Database(self._rw)
        # Without a replica, reads share the read-write pool.
        self.ro = Database(self._ro) if self._ro else self.rw

    async def open(self) -> None:
        await self._rw.open()
        if self._ro:
            await self._ro.open()

    async def close(self) -> None:
        await self._rw.close()
        if self._ro:
            await self._ro.close()
