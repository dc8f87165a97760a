"""`central up`: the whole system on this machine, one child process per service.

The embedded PostgreSQL (unless CENTRAL_DATABASE_URL is set) lives as long as this
process; the services are children that get its URL, their logs prefixed by name.
Ctrl-C or SIGTERM stops the children (SIGTERM, then SIGKILL after a grace period) and
then the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from cli.migrate import migrate_all
from common.config import Config
from common.db.embedded import embedded_database_url
from common.keys import load_secret
from common.logs import get_logger
from common.temporal_dev import start_dev_server

# Started in this order; the gateway last, so that its readiness soon turns true.
PROCESSES: list[tuple[str, list[str]]] = [
    ("tenants", ["serve", "tenants"]),
    ("auth", ["serve", "auth"]),
    ("gateway", ["serve", "gateway"]),
    ("core", ["worker", "--queue", "core"]),
    # The media queue's worker joins once the media queue has its first workflow.
]
GRACE_SECONDS = 15.0
logger = get_logger("up")


async def _pipe(name: str, stream: asyncio.StreamReader) -> None:
    prefix = f"{name:<8}| ".encode()
    while line := await stream.readline():
        sys.stdout.buffer.write(prefix + line)
        sys.stdout.flush()


async def up(config: Config) -> int:
    env = dict(os.environ, CENTRAL_HOME=str(config.home))
    if config.database_url is None:
        env["CENTRAL_DATABASE_URL"] = embedded_database_url(config.home)
        logger.info("embedded PostgreSQL at %s", config.home / "postgres")
    load_secret(config.home)  # made once here, so the children do not race to create it
    await migrate_all(env["CENTRAL_DATABASE_URL"])
    temporal = await start_dev_server(config.temporal_addr, config.home / "temporal.db")
    logger.info("Temporal dev server at %s", config.temporal_addr)
    assert temporal.stdout is not None
    pipes_before = [asyncio.create_task(_pipe("temporal", temporal.stdout))]

    children: dict[str, asyncio.subprocess.Process] = {}
    pipes: list[asyncio.Task[None]] = pipes_before
    for name, args in PROCESSES:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli.main",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert child.stdout is not None
        children[name] = child
        pipes.append(asyncio.create_task(_pipe(name, child.stdout)))

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    waits = {asyncio.create_task(c.wait()): name for name, c in children.items()}
    stop_task = asyncio.create_task(stopping.wait())
    done, _ = await asyncio.wait([stop_task, *waits], return_when=asyncio.FIRST_COMPLETED)
    failed = [waits[t] for t in done if t in waits]
    if failed:
        logger.error("%s exited; stopping everything", ", ".join(failed))

    for child in children.values():
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.wait() for c in children.values())), GRACE_SECONDS)
    except TimeoutError:
        for name, child in children.items():
            if child.returncode is None:
                logger.warning("%s did not stop in %.0fs; killing it", name, GRACE_SECONDS)
                child.kill()
    temporal.terminate()
    await temporal.wait()
    await asyncio.gather(*pipes, return_exceptions=True)
    return 1 if failed else 0
