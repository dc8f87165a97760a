"""Connecting to Temporal, as every process that talks to it does."""

from __future__ import annotations

from temporalio.client import Client

from common.config import Config


async def connect(config: Config) -> Client:
    return await Client.connect(str(config.temporal_addr), namespace=config.temporal_namespace)
