"""Connecting to Temporal, as every process that talks to it does."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.converter import DataConverter

from common.config import Config
from common.telemetry import Telemetry
from common.temporal.codec import EncryptingCodec
from common.temporal.dispatcher import TemporalDispatcher
from common.temporal.errors import temporal_unavailable
from common.temporal.signatures import InputSignatures, InputSignaturesInterceptor


async def connect(config: Config, telemetry: Telemetry | None = None) -> Client:
    # Client interceptors apply to workers built from the client as well: the worker verifies
    # the signatures this client makes.
    signatures = InputSignaturesInterceptor(InputSignatures.load(config))
    return await Client.connect(
        str(config.temporal_addr),
        namespace=config.temporal_namespace,
        # Histories hold only what this codec sealed.
        data_converter=dataclasses.replace(DataConverter.default, payload_codec=EncryptingCodec.load(config)),
        interceptors=[signatures, *(telemetry.temporal_interceptors() if telemetry else [])],
    )


class LazyDispatcher:
    """A dispatcher connected on first use: a service that starts workflows starts, and serves
    everything else, while Temporal is down; a start meanwhile is UNAVAILABLE."""

    def __init__(self, config: Config, telemetry: Telemetry | None = None) -> None:
        self._config = config
        self._telemetry = telemetry
        self._dispatcher: TemporalDispatcher | None = None

    async def __call__(self) -> TemporalDispatcher:
        if self._dispatcher is None:
            try:
                self._dispatcher = TemporalDispatcher(await connect(self._config, self._telemetry))
            except RuntimeError:
                raise temporal_unavailable() from None
        return self._dispatcher
