"""The media gRPC service, as `central serve media` runs it (common/processes.py)."""

from __future__ import annotations

import grpc

from central.media.v1 import transcription_jobs_pb2, transcription_jobs_pb2_grpc
from common.container import Container
from common.grpc.guard import Guard
from common.grpc.server import Register
from common.temporal.client import LazyDispatcher
from services.media.api import TranscriptionJobsApi
from services.media.service import TranscriptionJobService

SERVICE = transcription_jobs_pb2.DESCRIPTOR.services_by_name["TranscriptionJobsService"]


async def registrar(container: Container) -> Register:
    """What adds the media service to a gRPC server, wired to the container's pools and Temporal."""
    pools = await container.pools()
    # Connected on first use: the service starts, and serves reads, while Temporal is down.
    dispatcher = LazyDispatcher(container.config, container.telemetry)
    api = TranscriptionJobsApi(TranscriptionJobService(pools.rw, pools.ro, container.cursors, dispatcher))

    def register(server: grpc.aio.Server, guard: Guard) -> list[str]:
        transcription_jobs_pb2_grpc.add_TranscriptionJobsServiceServicer_to_server(
            guard(api, SERVICE), server
        )
        return [SERVICE.full_name]

    return register
