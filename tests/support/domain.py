"""A database-only fixture for one domain's tests: the migrated database, the container's pools,
and that domain's gRPC server alone (its `registrar`, from the registry of processes), with no
Temporal and no gateway. It shares the session's database (and standby) with the whole stack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest

from cli.migrate import migrate_all
from common.config import Config
from common.container import Container
from common.db.pools import Pools
from common.grpc.channels import open_system_channel
from common.grpc.server import start_server
from common.processes import process
from tests.support.replica import Replica


@dataclass
class DomainServer:
    config: Config
    database_url: str
    pools: Pools
    # Signed as the system, to the domain's server.
    channel: grpc.aio.Channel
    replica: Replica | None = None


@pytest.fixture(scope="session")
async def tenants_server(
    base_config: Config, database_url: str, replica: Replica | None
) -> AsyncIterator[DomainServer]:
    """The tenants service on its own: what the tenants domain's tests need, and no more."""
    await migrate_all(database_url, base_config.database_passwords_dir)
    container = Container.create(base_config, process="tenants")
    register = await process("tenants").load()(container)
    server = await start_server("127.0.0.1:0", register, container.verifier)
    channel = open_system_channel(f"127.0.0.1:{server.port}", container.system_signer.to("tenants"))
    yield DomainServer(base_config, database_url, await container.pools(), channel, replica)
    await channel.close()
    await server.stop(grace=1)
    await container.close()
