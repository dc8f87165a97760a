"""How services reach PostgreSQL: a pool, or one transaction's connection, behind one protocol.

Every service method that touches the database takes `executor: Executor | None = None`
and falls back to its read-write `Database` (or the read-only one for reads); a method
that owns its transaction is prefixed `tx_` and takes no executor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString, Protocol, TypeVar

from psycopg import AsyncConnection, sql
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

Query = LiteralString | sql.Composed | sql.SQL
Params = Sequence[Any] | dict[str, Any] | None
RowT = TypeVar("RowT")


class Executor(Protocol):
    async def fetch_one(self, query: Query, params: Params, *, row: type[RowT]) -> RowT | None: ...

    async def fetch_all(self, query: Query, params: Params, *, row: type[RowT]) -> list[RowT]: ...

    async def execute(self, query: Query, params: Params = None) -> int: ...


class _ConnectionExecutor:
    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def fetch_one(self, query: Query, params: Params, *, row: type[RowT]) -> RowT | None:
        async with self._conn.cursor(row_factory=class_row(row)) as cur:
            await cur.execute(query, params)
            return await cur.fetchone()

    async def fetch_all(self, query: Query, params: Params, *, row: type[RowT]) -> list[RowT]:
        async with self._conn.cursor(row_factory=class_row(row)) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    async def execute(self, query: Query, params: Params = None) -> int:
        async with self._conn.cursor() as cur:
            await cur.execute(query, params)
            return cur.rowcount


class Transaction(_ConnectionExecutor):
    """One open transaction; every call runs on its connection."""


class Database:
    """A connection pool; each call borrows a connection for one statement."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self.pool = pool

    async def fetch_one(self, query: Query, params: Params, *, row: type[RowT]) -> RowT | None:
        async with self.pool.connection() as conn:
            return await _ConnectionExecutor(conn).fetch_one(query, params, row=row)

    async def fetch_all(self, query: Query, params: Params, *, row: type[RowT]) -> list[RowT]:
        async with self.pool.connection() as conn:
            return await _ConnectionExecutor(conn).fetch_all(query, params, row=row)

    async def execute(self, query: Query, params: Params = None) -> int:
        async with self.pool.connection() as conn:
            return await _ConnectionExecutor(conn).execute(query, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.pool.connection() as conn, conn.transaction():
            yield Transaction(conn)
