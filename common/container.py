"""The dependencies of one process, built once at start-up and handed to whoever needs them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property

import grpc

from common.config import Config
from common.db.logins import login_ro_url, login_url
from common.db.pools import Pools
from common.grpc.channels import open_channel, open_system_channel
from common.grpc.tls import Transport, route_to
from common.keys import Issuer, derive_keys, load_secrets, load_signing_key, load_trusted_keys
from common.lists import Cursors
from common.principal import PrincipalSigner, PrincipalVerifier
from common.telemetry import Telemetry


@dataclass
class Container:
    """`process` is the process's name in common/processes.py: the audience of the principals
    it verifies. Each key is read when first needed, so that a process holds only the keys its
    work needs (the gateway: its own signing key alone)."""

    config: Config
    telemetry: Telemetry
    process: str = "cli"
    _pools: Pools | None = None
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def create(cls, config: Config, process: str = "cli") -> Container:
        return cls(config=config, telemetry=Telemetry.from_env(process), process=process)

    @cached_property
    def cursors(self) -> Cursors:
        """Issues and reads list cursors, under a key of the services' secret."""
        return Cursors(*derive_keys(load_secrets(self.config.home), "list-cursor"))

    @cached_property
    def system_signer(self) -> PrincipalSigner:
        """Signs as the system: services calling services, workers, operator commands."""
        return PrincipalSigner(load_signing_key(Issuer.SYSTEM, self.config.home))

    @cached_property
    def gateway_signer(self) -> PrincipalSigner:
        """Signs the gateway's callers, and the gateway itself."""
        return PrincipalSigner(load_signing_key(Issuer.GATEWAY, self.config.home))

    @cached_property
    def verifier(self) -> PrincipalVerifier:
        """Verifies the principals sent to this process."""
        home = self.config.home
        return PrincipalVerifier(
            load_trusted_keys(home), self.process, reload=lambda: load_trusted_keys(home)
        )

    def database_url(self) -> str:
        """As this process's own role (common/db/logins.py): a service reaches its schema alone."""
        return login_url(self.config, self.process)

    async def pools(self) -> Pools:
        if self._pools is None:
            url = self.database_url()
            config = self.config
            pools = Pools(
                url,
                login_ro_url(config, self.process),
                config.db_pool_max_size,
                config.db_statement_timeout_seconds,
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

    def system_channel(self, process: str) -> grpc.aio.Channel:
        """The channel to the process named `process`, whose calls are signed as the system for it."""
        key = f"system:{process}"
        if key not in self._channels:
            address, server_name = route_to(process, self.config.address(process))
            self._channels[key] = open_system_channel(
                address,
                self.system_signer.to(process),
                self.telemetry.grpc_client_interceptors(),
                transport=self.transport,
                server_name=server_name,
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
