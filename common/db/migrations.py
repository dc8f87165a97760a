"""Per-service migrations: plain SQL files applied in order, recorded in the service's schema.

Files are `NNNN_what.sql` in the service's `migrations/` folder. Each runs in its own
transaction together with its record, under an advisory lock per schema, so running
twice, or from two processes at once, applies each file exactly once. An applied file
whose content changed is refused: write a new migration instead.

`url` is the operator's administrator (a superuser, or a role that may create and alter roles);
the files run as the schema's owner role, and the schema's runtime role gets its rights on what
they make (common/db/roles.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from common.db.roles import SchemaRoles, grant, prepare
from common.logs import get_logger

logger = get_logger("migrations")


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    sql_text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql_text.encode()).hexdigest()


class MigrationError(Exception):
    pass


def load(directory: Path) -> list[Migration]:
    files = sorted(directory.glob("*.sql"))
    return [Migration(f.stem, f.read_text()) for f in files]


async def migrate(url: str, schema: str, directory: Path, runtime_password: str | None = None) -> list[str]:
    """Apply the pending migrations of one schema; return the versions applied."""
    roles = SchemaRoles(schema, runtime_password)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"central.migrations.{schema}",))
        try:
            # One schema at a time changes what the database grants: concurrent GRANTs on one object fail.
            await conn.execute("SELECT pg_advisory_lock(hashtext('central.migrations'))")
            try:
                await prepare(conn, roles)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext('central.migrations'))")
            await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.owner)))
            try:
                applied_now = await _apply(conn, schema, load(directory))
            finally:
                await conn.execute("RESET ROLE")
            await grant(conn, roles)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"central.migrations.{schema}",))
    return applied_now


async def _apply(conn: psycopg.AsyncConnection[Any], schema: str, migrations: list[Migration]) -> list[str]:
    table = sql.Identifier(schema, "schema_migrations")
    applied_now: list[str] = []
    await conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (version text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        ).format(table)
    )
    cur = await conn.execute(sql.SQL("SELECT version, checksum FROM {}").format(table))
    applied: dict[str, str] = dict(await cur.fetchall())
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"{schema}/{migration.version}.sql changed after it was applied;"
                    " add a new migration instead"
                )
            continue
        async with conn.transaction():
            # No parameters: psycopg sends the file as one simple query, statements and all.
            await conn.execute(migration.sql_text.encode())
            await conn.execute(
                sql.SQL("INSERT INTO {} (version, checksum) VALUES (%s, %s)").format(table),
                (migration.version, migration.checksum),
            )
        logger.info("applied %s/%s", schema, migration.version)
        applied_now.append(migration.version)
    return applied_now
