"""The dependencies of one process, built once at start-up and handed to whoever needs them."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from common.config import Config
from common.db.embedded import embedded_database_url
from common.db.pools import Pools
from common.grpc.channels import open_channel
from common.keys import derive_key, load_secret
from common.lists import Cursors


@dataclass
class Container:
    config: Config
    secret: bytes
    cursors: Cursors
    _pools: Pools | None = None
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    @classmethod
    def create(cls, config: Config) -> Container:
        secret = load_secret(config.home)
        return cls(config=config, secret=secret, cursors=Cursors(derive_key(secret, "list-cursor")))

    def database_url(self) -> str:
        return self.config.database_url or embedded_database_url(self.config.home)

    async def pools(self) -> Pools:
        if self._pools is None:
            url = self.database_url()
            pools = Pools(url, self.config.database_ro_url, self.config.db_pool_max_size)
            await pools.open()
            self._pools = pools
        return self._pools

    def channel(self, address: str) -> grpc.aio.Channel:
        if address not in self._channels:
            self._channels[address] = open_channel(address)
        return self._channels[address]

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        if self._pools is not None:
            await self._pools.close()
            self._pools = None
