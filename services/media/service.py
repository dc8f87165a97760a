"""The media domain: a tenant's transcription jobs, spoken in rich IDs and DTOs. The work
itself runs on the media queue (TranscribeAudio), started here through the dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, LiteralString
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql
from temporalio.service import RPCError, RPCStatusCode
from ulid import ULID

from central.lists.v1 import lists_pb2
from central.media.v1 import transcription_jobs_pb2 as pb
from common.db.executor import Database, Executor
from common.errors import FailedPreconditionError, PermissionDeniedError, ValidationError
from common.lists import Cursors
from common.logs import get_logger
from common.principal import Principal, PrincipalKind
from common.temporal.dispatcher import TemporalDispatcher
from services.auth.ids import TenantUserIds
from services.media.audio import sniff_media_type
from services.media.db import COLUMNS, OPEN_STATUSES, JobStatus, TranscriptionJobRow
from services.media.ids import TranscriptionJobId, TranscriptionJobIds
from services.media.jobs import DOMAIN, job_not_found
from services.media.workflows.transcribe import TranscribeAudioInput, TranscribeAudioWorkflow, workflow_id
from services.tenants.ids import TenantIds

DEFAULT_LANGUAGE = "en-US"
# 25 MiB: the route's body limit (its proto) leaves room for this much audio in base64.
MAX_AUDIO_BYTES = 25 * 1024 * 1024

Dispatcher = Callable[[], Awaitable[TemporalDispatcher]]


class TranscriptionJobService:
    def __init__(self, db: Database, db_ro: Database, cursors: Cursors, dispatcher: Dispatcher) -> None:
        self.db = db
        self.db_ro = db_ro
        self.cursors = cursors
        self.dispatcher = dispatcher
        self.logger = get_logger(type(self).__name__)

    async def _get_by_job_uuid(
        self, tenant_uuid: UUID, job_uuid: UUID, executor: Executor | None = None
    ) -> TranscriptionJobRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {COLUMNS} FROM media.transcription_jobs"
            " WHERE tenant_id = %s AND transcription_job_id = %s",
            (tenant_uuid, job_uuid),
            row=TranscriptionJobRow,
        )

    async def _row(
        self, tenant_id: str, job_id: str, executor: Executor | None = None
    ) -> TranscriptionJobRow:
        row = await self._get_by_job_uuid(
            TenantIds.to_uuid(tenant_id),
            TranscriptionJobIds.to_uuid(job_id, field="transcription_job_id"),
            executor,
        )
        if row is None:
            raise job_not_found()
        return row

    async def get_job(self, tenant_id: str, job_id: TranscriptionJobId) -> pb.TranscriptionJob:
        return self._to_transcription_job(await self._row(tenant_id, job_id))

    async def create_job(
        self, principal: Principal, input: pb.CreateTranscriptionJobInput
    ) -> pb.TranscriptionJob:
        if principal.kind is not PrincipalKind.USER:
            raise PermissionDeniedError("a transcription job is submitted by a tenant user", domain=DOMAIN)
        if len(input.audio) > MAX_AUDIO_BYTES:
            raise ValidationError.of(
                "audio", f"must be at most {MAX_AUDIO_BYTES} bytes", reason="AUDIO_TOO_LARGE", domain=DOMAIN
            )
        media_type = sniff_media_type(input.audio)
        if media_type is None:
            raise ValidationError.of(
                "audio", "must be WAV or FLAC", reason="UNSUPPORTED_AUDIO", domain=DOMAIN
            )
        tenant_uuid = TenantIds.to_uuid(input.tenant_id)
        key = input.idempotency_key or None
        if key and (existing := await self._by_idempotency_key(tenant_uuid, key)):
            return await self._started(existing)
        try:
            row = await self.db.fetch_one(
                "INSERT INTO media.transcription_jobs (transcription_job_id, tenant_id, submitted_by,"
                " idempotency_key, language, media_type, audio) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                f" RETURNING {COLUMNS}",
                (
                    ULID().to_uuid(),
                    tenant_uuid,
                    TenantUserIds.to_uuid(principal.tenant_user_id),
                    key,
                    input.language or DEFAULT_LANGUAGE,
                    media_type,
                    input.audio,
                ),
                row=TranscriptionJobRow,
            )
        except pg_errors.UniqueViolation:
            # A concurrent create with the same key won: the same job for both.
            assert key is not None
            row = await self._by_idempotency_key(tenant_uuid, key, self.db)
        assert row is not None
        return await self._started(row)

    async def _started(self, row: TranscriptionJobRow) -> pb.TranscriptionJob:
        """The job, its workflow started (a no-op for a retry of a create that went through)."""
        job_id = TranscriptionJobIds.to_rich_id(row.transcription_job_id)
        if row.status in OPEN_STATUSES:
            dispatcher = await self.dispatcher()
            await dispatcher.start(
                TranscribeAudioWorkflow.run,
                TranscribeAudioInput(job_id),
                id=workflow_id(job_id),
                already_running_ok=True,
            )
            self.logger.info("queued transcription job %s", job_id)
        return self._to_transcription_job(row)

    async def _by_idempotency_key(
        self, tenant_uuid: UUID, key: str, executor: Executor | None = None
    ) -> TranscriptionJobRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {COLUMNS} FROM media.transcription_jobs WHERE tenant_id = %s AND idempotency_key = %s",
            (tenant_uuid, key),
            row=TranscriptionJobRow,
        )

    async def list_jobs(
        self, request: pb.ListTranscriptionJobsInputOrCursor
    ) -> pb.ListTranscriptionJobsResponse:
        if request.WhichOneof("kind") != "cursor" and request.input.order == lists_pb2.LIST_ORDER_UNSPECIFIED:
            request.input.order = lists_pb2.LIST_ORDER_NEWEST_FIRST
        page = self.cursors.start(request, pb.ListTranscriptionJobsInput)
        after = TranscriptionJobIds.to_uuid(page.after, field="cursor") if page.after else None
        status = page.input.status or None
        rows = await self.db_ro.fetch_all(
            sql.SQL(
                f"SELECT {COLUMNS} FROM media.transcription_jobs WHERE tenant_id = %(tenant)s"
                " AND (%(status)s::text IS NULL OR status = %(status)s)"
            )
            + page.keyset("transcription_job_id"),
            {**page.keyset_params(after), "tenant": TenantIds.to_uuid(request.tenant_id), "status": status},
            row=TranscriptionJobRow,
        )
        jobs = [self._to_transcription_job(row) for row in rows]
        jobs, next_cursor = self.cursors.page_end(page, jobs, lambda j: j.transcription_job_id)
        return pb.ListTranscriptionJobsResponse(transcription_jobs=jobs, next_cursor=next_cursor)

    async def cancel_job(self, tenant_id: str, job_id: TranscriptionJobId) -> pb.TranscriptionJob:
        cancelled = await self._cancel_open(
            "tenant_id = %s AND transcription_job_id = %s",
            (TenantIds.to_uuid(tenant_id), TranscriptionJobIds.to_uuid(job_id, field="transcription_job_id")),
        )
        if not cancelled:
            finished = await self._row(tenant_id, job_id, self.db)
            raise FailedPreconditionError(
                f"the job is already {finished.status}", reason="TRANSCRIPTION_JOB_FINISHED", domain=DOMAIN
            )
        self.logger.info("cancelled transcription job %s", job_id)
        return self._to_transcription_job(cancelled[0])

    async def delete_job(self, principal: Principal, tenant_id: str, job_id: TranscriptionJobId) -> None:
        row = await self._row(tenant_id, job_id, self.db)
        submitter = TenantUserIds.to_rich_id(row.submitted_by)
        if not (
            principal.kind is PrincipalKind.SYSTEM
            or principal.is_admin
            or principal.tenant_user_id == submitter
        ):
            raise PermissionDeniedError(
                "only the tenant's admins and the job's submitter may delete it", domain=DOMAIN
            )
        if row.status in OPEN_STATUSES:
            await self._stop_workflow(job_id)
        # The audio and the transcript are columns of the row: they go with it.
        await self.db.execute(
            "DELETE FROM media.transcription_jobs WHERE transcription_job_id = %s",
            (row.transcription_job_id,),
        )
        self.logger.info("deleted transcription job %s", job_id)

    async def delete_tenant_jobs(self, tenant_id: str) -> int:
        """Every job of a deleted tenant; open ones are cancelled first, as one job's delete does."""
        tenant = TenantIds.to_uuid(tenant_id)
        await self._cancel_open("tenant_id = %s", (tenant,))
        deleted = await self.db.execute(
            "DELETE FROM media.transcription_jobs WHERE tenant_id = %s", (tenant,)
        )
        self.logger.info("deleted %d transcription jobs of tenant %s", deleted, tenant_id)
        return deleted

    async def _cancel_open(self, where: LiteralString, params: tuple[UUID, ...]) -> list[TranscriptionJobRow]:
        """Mark the open jobs `where` names CANCELLED, then stop their workflows: the database
        first, so that a late activity's write (conditional on an open job) never undoes it."""
        cancelled = await self.db.fetch_all(
            "UPDATE media.transcription_jobs"
            " SET status = 'CANCELLED', finished_at = now(), updated_at = now()"
            f" WHERE {where} AND status = ANY(%s) RETURNING {COLUMNS}",
            (*params, [str(s) for s in OPEN_STATUSES]),
            row=TranscriptionJobRow,
        )
        for row in cancelled:
            await self._stop_workflow(TranscriptionJobIds.to_rich_id(row.transcription_job_id))
        return cancelled

    async def _stop_workflow(self, job_id: str) -> None:
        dispatcher = await self.dispatcher()
        try:
            await dispatcher.client.get_workflow_handle(workflow_id(job_id)).cancel()
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise

    def _to_transcription_job(self, row: TranscriptionJobRow) -> pb.TranscriptionJob:
        job = pb.TranscriptionJob(
            transcription_job_id=TranscriptionJobIds.to_rich_id(row.transcription_job_id),
            tenant_id=TenantIds.to_rich_id(row.tenant_id),
            status=row.status,
            language=row.language,
            media_type=row.media_type,
            duration_seconds=row.duration_seconds,
            progress=row.progress,
            submitted_by=TenantUserIds.to_rich_id(row.submitted_by),
        )
        if row.status == JobStatus.SUCCEEDED and row.transcript is not None:
            job.transcript.CopyFrom(_transcript(row.transcript))
        if row.status == JobStatus.FAILED:
            job.failure.reason = row.failure_reason or ""
            job.failure.message = row.failure_message or ""
        job.created_at.FromDatetime(row.created_at)
        if row.started_at:
            job.started_at.FromDatetime(row.started_at)
        if row.finished_at:
            job.finished_at.FromDatetime(row.finished_at)
        return job


def _transcript(stored: dict[str, Any]) -> pb.Transcript:
    return pb.Transcript(
        text=stored.get("text", ""),
        segments=[
            pb.TranscriptSegment(
                start_seconds=s["start_seconds"], end_seconds=s["end_seconds"], text=s["text"]
            )
            for s in stored.get("segments", [])
        ],
    )
