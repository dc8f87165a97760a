"""Races made certain rather than lucky: every racer is let go at once, from one barrier.

The barrier is a table lock the test holds in EXCLUSIVE mode: plain reads pass it, so each
racer makes its checks, but writes and locking reads (`FOR UPDATE`) wait for it. Once every
racer waits on a lock, the test lets go, and they all go on from the same point. A racer
that locks the rows it checks waits before its check instead, and then runs after the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import sql

T = TypeVar("T")
_WAIT_SECONDS = 10.0


async def race(database_url: str, table: str, racers: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Start every racer once the barrier stands; let them go together once each waits on `table`.

    Racers are functions, called only then: a gRPC call is under way as soon as it is made.
    """
    schema, name = table.split(".")
    async with (
        await psycopg.AsyncConnection.connect(database_url) as holder,
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as watcher,
    ):
        async with holder.transaction():
            await holder.execute(
                sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(schema, name))
            )
            tasks = [asyncio.ensure_future(racer()) for racer in racers]
            try:
                await _until_waiting(watcher, holder.info.backend_pid, tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                raise
        return list(await asyncio.gather(*tasks))


async def _until_waiting(
    watcher: psycopg.AsyncConnection[Any], holder_pid: int, tasks: Sequence[asyncio.Future[T]]
) -> None:
    """Until as many backends wait on a lock as there are racers (a statistics snapshot per poll)."""
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        cursor = await watcher.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> %s",
            (holder_pid,),
        )
        row = await cursor.fetchone()
        waiting = row[0] if row is not None else 0
        if waiting >= len(tasks):
            return
        finished = [task for task in tasks if task.done()]
        assert not finished, f"a racer finished before the barrier opened: {finished[0].result()!r}"
        assert time.monotonic() < deadline, f"only {waiting} of {len(tasks)} racers reached the barrier"
        await asyncio.sleep(0.01)
