"""The dependencies of one process, built once at start-up and handed to whoever needs them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property

import grpc

from common.config import Config
from common.db.embedded import embedded_database_url
from common.db.pools import Pools
from common.grpc.channels import open_channel, open_system_channel
from common.grpc.tls import Transport
from common.keys import derive_key, load_secret
from common.lists import Cursors
from common.principal import PrincipalSigner
from common.telemetry import Telemetry


@dataclass
class Container:
    config: Config
    cursors: Cursors
    signer: PrincipalSigner
    telemetry: Telemetry
    _pools: Pools | None = None
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def create(cls, config: Config, process: str = "cli") -> Container:
        secret = load_secret(config.home)
        return cls(
            config=config,
            cursors=Cursors(derive_key(secret, "list-cursor")),
            signer=PrincipalSigner(derive_key(secret, "principal")),
            telemetry=Telemetry.from_env(process),
        )

    def database_url(self) -> str:
        return self.config.database_url or embedded_database_url(self.config.home)

    async def pools(self) -> Pools:
        if self._pools is None:
            url = self.database_url()
            config = self.config
            pools = Pools(
                url, config.database_ro_url, config.db_pool_max_size, config.db_statement_timeout_seconds
            )
            await pools.open()
            self._pools = pools
        return self._pools

    @cached_property
    def transport(self) -> Transport:
        """Mutual TLS or loopback plaintext for every gRPC port and channel (common/grpc/tls.py)."""
        return Transport.from_settings(self.config.tls)

    def channel(self, address: str) -> grpc.aio.Channel:
        """The channel to `address`; each caller attaches its own principal (the gateway)."""
        if address not in self._channels:
            self._channels[address] = open_channel(
                address, self.telemetry.grpc_client_interceptors(), transport=self.transport
            )
        return self._channels[address]

    def system_channel(self, address: str) -> grpc.aio.Channel:
        """The channel to `address` whose calls are signed as the system."""
        key = f"system:{address}"
        if key not in self._channels:
            self._channels[key] = open_system_channel(
                address, self.signer, self.telemetry.grpc_client_interceptors(), transport=self.transport
            )
        return self._channels[key]

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run `closer` when the container closes, before its channels and pools."""
        self._closers.append(closer)

    async def close(self) -> None:
        for closer in reversed(self._closers):
            await closer()
        self._closers.clear()
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        if self._pools is not None:
            await self._pools.close()
            self._pools = None
        self.telemetry.shutdown()
