"""Least privilege in PostgreSQL: per schema, an owner role and a runtime role (names in
common/processes.py), made and kept right by `central migrate` before and after its migrations.

- The owner (NOLOGIN) owns the schema and every object in it. Migrations run as it: `central
  migrate` connects as the operator's administrator and takes the role on (SET ROLE) for them.
- The runtime role (LOGIN) is what the schema's processes connect as: USAGE on its schema and
  SELECT, INSERT, UPDATE, DELETE on its tables (default privileges cover later migrations'),
  nothing on another schema, and no CREATE anywhere: a service that is taken over can read and
  change its own rows, not another service's, and can neither change the schema nor own a table.
LISTEN/NOTIFY need no privilege; a physical replica has the same roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import AsyncConnection, sql

from common.processes import owner_role, runtime_role


@dataclass(frozen=True, slots=True)
class SchemaRoles:
    schema: str
    # None: the runtime role keeps the password it has (none on a server that trusts local users).
    runtime_password: str | None = None

    @property
    def owner(self) -> str:
        return owner_role(self.schema)

    @property
    def runtime(self) -> str:
        return runtime_role(self.schema)


async def prepare(conn: AsyncConnection[Any], roles: SchemaRoles) -> None:
    """The roles, the schema owned by its owner (with what an earlier migrate left to its own
    user), the runtime role's rights on what later migrations make; as the administrator."""
    schema, owner, runtime = (sql.Identifier(name) for name in (roles.schema, roles.owner, roles.runtime))
    await _ensure_role(conn, roles.owner, login=False)
    await _ensure_role(conn, roles.runtime, login=True)
    if roles.runtime_password is not None:
        await _set_password(conn, roles.runtime, roles.runtime_password)
    await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, owner))
    await conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
    for (table,) in await _fetch(
        conn,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = %s)",
        roles.schema,
        roles.owner,
    ):
        await conn.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(roles.schema, table), owner)
        )
    await conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
    await conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, runtime))
    await conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(await _fetch_value(conn, "SELECT current_database()")), runtime
        )
    )
    # Before PostgreSQL 15 everyone may create in public; nobody should.
    await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    for privileges, kind in (("SELECT, INSERT, UPDATE, DELETE", "TABLES"), ("USAGE, SELECT", "SEQUENCES")):
        await conn.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}").format(
                owner, schema, sql.SQL(privileges), sql.SQL(kind), runtime
            )
        )


async def grant(conn: AsyncConnection[Any], roles: SchemaRoles) -> None:
    """The runtime role's rights on every table and sequence of its schema (those an earlier
    migrate made too), but none on the record of migrations; as the administrator."""
    schema, runtime = sql.Identifier(roles.schema), sql.Identifier(roles.runtime)
    await conn.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, runtime
        )
    )
    await conn.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, runtime)
    )
    await conn.execute(
        sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(roles.schema, "schema_migrations"), runtime)
    )


async def _ensure_role(conn: AsyncConnection[Any], name: str, *, login: bool) -> None:
    role = sql.Identifier(name)
    # Whatever it was made with, it is no more than this (a role made by hand may have had more).
    attributes = sql.SQL("{} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT").format(
        sql.SQL("LOGIN" if login else "NOLOGIN")
    )
    if not await _fetch(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", name):
        try:
            await conn.execute(sql.SQL("CREATE ROLE {} {}").format(role, attributes))
            return
        except psycopg.errors.DuplicateObject:
            pass  # made meanwhile by a migrate of another database on this server
    await conn.execute(sql.SQL("ALTER ROLE {} {}").format(role, attributes))


async def _set_password(conn: AsyncConnection[Any], role: str, password: str) -> None:
    # Hashed here (SCRAM), so that the password itself reaches neither the server nor its logs.
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    await conn.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier.decode()))
    )


async def _fetch(conn: AsyncConnection[Any], query: LiteralString, *params: str) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


async def _fetch_value(conn: AsyncConnection[Any], query: LiteralString) -> Any:
    rows = await _fetch(conn, query)
    return rows[0][0]
