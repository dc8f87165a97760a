"""The system as separate processes, as `central up` runs it, on free loopback ports."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from common.config import HostPort
from common.db.embedded import embedded_database_url
from common.ports import free_port, wait_for_port
from common.temporal_dev import start_dev_server

CENTRAL = str(Path(sys.executable).parent / "central")
# The children of `running_processes`, in the order it starts them.
_NAMES = ("tenants", "auth", "gateway", "worker", "auth-2", "gateway-2")


@dataclass(frozen=True)
class Processes:
    env: dict[str, str]
    gateway_port: int
    tenants_address: str
    auth_address: str
    # A second gateway, on a second auth replica: where a revocation through the first must arrive.
    gateway_2_port: int
    # Process ids by name, for their CPU time (bench/cpu.py).
    pids: dict[str, int]


@contextmanager
def _home() -> Iterator[str]:
    """The run's CENTRAL_HOME, removed at exit after the embedded PostgreSQL in it stops (atexit
    runs the last registered first): it stops itself at exit, and cannot once its directory is gone."""
    home = tempfile.mkdtemp(prefix="central-bench-")
    atexit.register(shutil.rmtree, home, True)
    yield home


@asynccontextmanager
async def running_processes(gateway_log: Path) -> AsyncIterator[Processes]:
    """Every process; the first gateway writes its log to `gateway_log` (its session cache's
    lookups are its last line, bench/cache_hits.py)."""
    with _home() as home:
        url = os.environ.get("CENTRAL_DATABASE_URL") or embedded_database_url(Path(home))
        gateway_port, tenants_port, auth_port, temporal_port = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        )
        gateway_2_port, auth_2_port = free_port(), free_port()
        env = {
            **os.environ,
            "CENTRAL_HOME": home,
            "CENTRAL_DATABASE_URL": url,
            "CENTRAL_GATEWAY_ADDR": f"127.0.0.1:{gateway_port}",
            "CENTRAL_TENANTS_ADDR": f"127.0.0.1:{tenants_port}",
            "CENTRAL_AUTH_ADDR": f"127.0.0.1:{auth_port}",
            "CENTRAL_TEMPORAL_ADDR": f"127.0.0.1:{temporal_port}",
            "CENTRAL_LOG_LEVEL": "WARNING",
            # The load comes from one address; throttling is not what is measured.
            "CENTRAL_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
            "CENTRAL_SIGNUP_MAX_PER_ADDRESS": "1000000",
        }
        migrate = await asyncio.create_subprocess_exec(
            CENTRAL, "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
        )
        assert await migrate.wait() == 0
        temporal = await start_dev_server(HostPort("127.0.0.1", temporal_port), Path(home) / "temporal.db")
        replica_2 = {
            **env,
            "CENTRAL_AUTH_ADDR": f"127.0.0.1:{auth_2_port}",
            "CENTRAL_GATEWAY_ADDR": f"127.0.0.1:{gateway_2_port}",
        }
        # As production runs it by default, like the monolith: no metrics SDK (recording cost it
        # 23 µs a request, python -m bench.gateway_path), INFO logs.
        logged = {**env, "CENTRAL_LOG_LEVEL": "INFO"}
        with gateway_log.open("wb") as log_out:
            children = [
                await asyncio.create_subprocess_exec(CENTRAL, "serve", "tenants", env=env),
                await asyncio.create_subprocess_exec(CENTRAL, "serve", "auth", env=env),
                await asyncio.create_subprocess_exec(CENTRAL, "serve", "gateway", env=logged, stderr=log_out),
                await asyncio.create_subprocess_exec(CENTRAL, "worker", "--queue", "core", env=env),
                await asyncio.create_subprocess_exec(CENTRAL, "serve", "auth", env=replica_2),
                await asyncio.create_subprocess_exec(CENTRAL, "serve", "gateway", env=replica_2),
            ]
        try:
            for port in (tenants_port, auth_port, gateway_port, auth_2_port, gateway_2_port):
                await wait_for_port(port)
            yield Processes(
                env,
                gateway_port,
                f"127.0.0.1:{tenants_port}",
                f"127.0.0.1:{auth_port}",
                gateway_2_port,
                {
                    **{name: child.pid for name, child in zip(_NAMES, children, strict=True)},
                    **_embedded_postgres(Path(home)),
                },
            )
        finally:
            for child in children:
                # One that already exited (it could not bind its port, say) must not leave the
                # others running.
                if child.returncode is None:
                    with suppress(ProcessLookupError):
                        child.send_signal(signal.SIGTERM)
            for child in children:
                await child.wait()
            temporal.terminate()
            await temporal.wait()


def _embedded_postgres(home: Path) -> dict[str, int]:
    """The embedded PostgreSQL's postmaster, whose children are the backends doing the queries
    (nothing when CENTRAL_DATABASE_URL names another server)."""
    for pid_file in (home / "postgres").glob("**/postmaster.pid"):
        return {"postgres": int(pid_file.read_text().split()[0])}
    return {}


@asynccontextmanager
async def running_monolith(env: dict[str, str], workers: int = 2) -> AsyncIterator[tuple[int, int]]:
    """The FastAPI yardstick under uvicorn with `workers` processes; yields its port and the
    process id of uvicorn's supervisor, whose children are the workers."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "bench.monolith:app", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        env=env,
    )  # fmt: skip
    try:
        await wait_for_port(port)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
