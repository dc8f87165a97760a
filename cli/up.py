"""`central up`: the whole system on this machine, one child process per service.

The embedded PostgreSQL (unless CENTRAL_DATABASE_URL is set) lives as long as this
process; the services are children that get its URL and only the variables they need,
their output relayed with their names. A child that exits is started again after a
back-off; one that keeps crashing stops everything (exit 1). Ctrl-C or SIGTERM stops the
children (SIGTERM, then SIGKILL after a grace period), then Temporal, then the database.
"""

from __future__ import annotations

import sys
from functools import partial

from cli.migrate import migrate_all
from cli.supervisor import Supervisor
from common import processes
from common.children import child_environment, relayed, spawn
from common.config import Config
from common.crypto import encryption_keys
from common.db.embedded import embedded_database_url
from common.db.logins import login_url
from common.keys import check_keys
from common.logs import get_logger
from common.signals import stop_signalled
from common.temporal_dev import start_dev_server

# Started in the registry's order (common/processes.py), each named as `central healthcheck` names it.
PROCESSES: list[tuple[str, list[str]]] = [
    (p.healthcheck_target, p.command) for p in processes.PROCESSES if p.in_up
]
# What a Central process reads: its settings, telemetry, libpq's defaults, the interpreter's.
SERVICE_VARIABLES = ("CENTRAL_", "OTEL_", "PG", "PYTHON", "GRPC_")
GRACE_SECONDS = 15.0
logger = get_logger("up")


async def up(config: Config) -> int:
    stopping = stop_signalled()
    env = child_environment(*SERVICE_VARIABLES) | {"CENTRAL_HOME": str(config.home)}
    if config.database_url is None:
        env["CENTRAL_DATABASE_URL"] = embedded_database_url(config.home)
        logger.info("embedded PostgreSQL at %s", config.home / "postgres")
    # Made once here, so that the children do not race to make them; a bad one stops us here.
    check_keys(config.home)
    encryption_keys(config.home)
    # As the URL's user (the embedded server's superuser); each child then connects as its own role.
    await migrate_all(login_url(config, "up"), config.database_passwords_dir)

    temporal, services = Supervisor(stopping), Supervisor(stopping)
    try:
        await temporal.start(
            "temporal", partial(start_dev_server, config.temporal_addr, config.home / "temporal.db")
        )
        logger.info("Temporal dev server at %s", config.temporal_addr)
        for name, args in PROCESSES:
            if stopping.is_set():
                break
            await services.start(name, partial(spawn, name, sys.executable, "-m", "cli.main", *args, env=env))
        await stopping.wait()
    finally:
        await services.stop(GRACE_SECONDS)
        await temporal.stop(GRACE_SECONDS)
        await relayed()
    return 1 if services.gave_up or temporal.gave_up else 0
