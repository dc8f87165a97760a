"""The gRPC face of the media domain: protos in, one TranscriptionJobService call, protos out.

Who may call each rpc is its proto's `central.api.v1.access`, enforced by the guard; who may
delete a job (its submitter or an admin) depends on the job, and is checked by the service.
"""

from __future__ import annotations

from typing import Any

import grpc

from central.media.v1 import transcription_jobs_pb2 as pb
from central.media.v1 import transcription_jobs_pb2_grpc
from common.principal import current_principal
from services.media.ids import TranscriptionJobIds
from services.media.service import TranscriptionJobService

Context = grpc.aio.ServicerContext[Any, Any]


class TranscriptionJobsApi(transcription_jobs_pb2_grpc.TranscriptionJobsServiceServicer):
    def __init__(self, jobs: TranscriptionJobService) -> None:
        self.jobs = jobs

    async def CreateTranscriptionJob(  # noqa: N802 - gRPC method names
        self, request: pb.CreateTranscriptionJobInput, context: Context
    ) -> pb.CreateTranscriptionJobResponse:
        job = await self.jobs.create_job(current_principal(), request)
        return pb.CreateTranscriptionJobResponse(transcription_job=job)

    async def ListTranscriptionJobs(  # noqa: N802
        self, request: pb.ListTranscriptionJobsInputOrCursor, context: Context
    ) -> pb.ListTranscriptionJobsResponse:
        return await self.jobs.list_jobs(request)

    async def GetTranscriptionJob(  # noqa: N802
        self, request: pb.GetTranscriptionJobInput, context: Context
    ) -> pb.GetTranscriptionJobResponse:
        job_id = TranscriptionJobIds.ensure(request.transcription_job_id, field="transcription_job_id")
        return pb.GetTranscriptionJobResponse(
            transcription_job=await self.jobs.get_job(request.tenant_id, job_id)
        )

    async def CancelTranscriptionJob(  # noqa: N802
        self, request: pb.CancelTranscriptionJobInput, context: Context
    ) -> pb.CancelTranscriptionJobResponse:
        job_id = TranscriptionJobIds.ensure(request.transcription_job_id, field="transcription_job_id")
        job = await self.jobs.cancel_job(request.tenant_id, job_id)
        return pb.CancelTranscriptionJobResponse(transcription_job=job)

    async def DeleteTranscriptionJob(  # noqa: N802
        self, request: pb.DeleteTranscriptionJobInput, context: Context
    ) -> pb.DeleteTranscriptionJobResponse:
        job_id = TranscriptionJobIds.ensure(request.transcription_job_id, field="transcription_job_id")
        await self.jobs.delete_job(current_principal(), request.tenant_id, job_id)
        return pb.DeleteTranscriptionJobResponse()

    async def DeleteTenantTranscriptionJobs(  # noqa: N802
        self, request: pb.DeleteTenantTranscriptionJobsInput, context: Context
    ) -> pb.DeleteTenantTranscriptionJobsResponse:
        return pb.DeleteTenantTranscriptionJobsResponse(
            deleted=await self.jobs.delete_tenant_jobs(request.tenant_id)
        )
