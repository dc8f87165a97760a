"""Migrations: in order, once each, from two processes at once, and never edited after the fact."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import psycopg
import pytest

from common.db.migrations import MigrationError, migrate
from tests.support.stack import Stack


async def test_concurrent_runs_apply_each_migration_once(stack: Stack, tmp_path: Path) -> None:
    schema = f"mig_{secrets.token_hex(4)}"
    (tmp_path / "0001_things.sql").write_text(f"CREATE TABLE {schema}.things (id int PRIMARY KEY);")
    (tmp_path / "0002_more.sql").write_text(
        f"ALTER TABLE {schema}.things ADD COLUMN name text; INSERT INTO {schema}.things VALUES (1, 'one');"
    )
    results = await asyncio.gather(*(migrate(stack.database_url, schema, tmp_path) for _ in range(4)))
    assert sorted(v for applied in results for v in applied) == ["0001_things", "0002_more"]
    assert await migrate(stack.database_url, schema, tmp_path) == []
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        cursor = await conn.execute(f"SELECT id, name FROM {schema}.things")
        assert await cursor.fetchall() == [(1, "one")]

    (tmp_path / "0001_things.sql").write_text(f"CREATE TABLE {schema}.things (id bigint PRIMARY KEY);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(stack.database_url, schema, tmp_path)


async def test_a_failing_migration_leaves_nothing_half_applied(stack: Stack, tmp_path: Path) -> None:
    schema = f"mig_{secrets.token_hex(4)}"
    (tmp_path / "0001_ok.sql").write_text(f"CREATE TABLE {schema}.ok (id int);")
    (tmp_path / "0002_broken.sql").write_text(f"CREATE TABLE {schema}.half (id int); SELECT 1/0;")
    with pytest.raises(psycopg.errors.DivisionByZero):
        await migrate(stack.database_url, schema, tmp_path)
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        cursor = await conn.execute(
            "SELECT to_regclass(%s), to_regclass(%s)", (f"{schema}.ok", f"{schema}.half")
        )
        assert await cursor.fetchone() == (f"{schema}.ok", None)
