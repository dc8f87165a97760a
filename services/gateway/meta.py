"""The gateway's own MetaService: liveness and readiness probes."""

from __future__ import annotations

import asyncio

import grpc

from central.meta.v1 import meta_pb2
from common.errors import UnavailableError
from common.grpc.health import serving
from services.gateway.backends import LocalBackend

SERVICE = meta_pb2.DESCRIPTOR.services_by_name["MetaService"]
_PROBE_TIMEOUT = 1.0


class MetaApi:
    def __init__(self, upstreams: dict[str, grpc.aio.Channel]) -> None:
        # Service full name -> its channel.
        self.upstreams = upstreams

    async def liveness_probe(self, request: meta_pb2.LivenessProbeInput) -> meta_pb2.LivenessProbeResponse:
        return meta_pb2.LivenessProbeResponse(pong=True)

    async def readiness_probe(self, request: meta_pb2.ReadinessProbeInput) -> meta_pb2.ReadinessProbeResponse:
        names = list(self.upstreams)
        results = await asyncio.gather(*(self._serving(name) for name in names))
        down = [name for name, serving in zip(names, results, strict=True) if not serving]
        if down:
            raise UnavailableError(
                f"not ready: {', '.join(down)} unavailable", reason="DEPENDENCY_UNAVAILABLE"
            )
        return meta_pb2.ReadinessProbeResponse(ready=True)

    async def _serving(self, service: str) -> bool:
        return await serving(self.upstreams[service], service, deadline_seconds=_PROBE_TIMEOUT)

    def backend(self) -> LocalBackend:
        return LocalBackend({"LivenessProbe": self.liveness_probe, "ReadinessProbe": self.readiness_probe})
