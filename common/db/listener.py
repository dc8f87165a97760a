"""One PostgreSQL LISTEN connection, held open and reopened, that tells its owner what it hears
and whether it is hearing at all (a cache built on it is trusted only while it is live)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
from psycopg import sql

from common.background import BackgroundLoop
from common.logs import get_logger


class Listener:
    def __init__(
        self,
        database_url: str,
        channel: str,
        on_payload: Callable[[str], None],
        on_live: Callable[[], None],
        on_lost: Callable[[], None],
        retry_seconds: float = 0.5,
    ) -> None:
        self.database_url = database_url
        self.channel = channel
        self._on_payload = on_payload
        self._on_live = on_live
        self._on_lost = on_lost
        self._retry_seconds = retry_seconds
        self._loop = BackgroundLoop(f"listen-{self.channel}", self._listen_forever)
        self._logger = get_logger(f"Listener[{channel}]")

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self._on_live()
                    async for notify in conn.notifies():
                        self._on_payload(notify.payload)
            except psycopg.Error:
                self._logger.warning("listener lost; retrying", exc_info=True)
            finally:
                self._on_lost()
            await asyncio.sleep(self._retry_seconds)
