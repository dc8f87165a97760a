"""Connecting to Temporal, as every process that talks to it does."""

from __future__ import annotations

from temporalio.client import Client

from common.config import Config
from common.errors import UnavailableError
from common.telemetry import Telemetry


async def connect(config: Config, telemetry: Telemetry | None = None) -> Client:
    # Client interceptors apply to workers built from the client as well.
    return await Client.connect(
        str(config.temporal_addr),
        namespace=config.temporal_namespace,
        interceptors=telemetry.temporal_interceptors() if telemetry else [],
    )


def temporal_unavailable() -> UnavailableError:
    """What a caller who needs a workflow hears while Temporal cannot be reached."""
    return UnavailableError(
        "the workflow service is unavailable; try again shortly", reason="TEMPORAL_UNAVAILABLE"
    )
