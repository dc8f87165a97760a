"""A job's progress as the worker writes it: every write is conditional on the job being still
open (QUEUED or RUNNING), so that nothing overwrites a cancel or a final status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from psycopg import sql
from psycopg.types.json import Jsonb

from common.db.executor import Database
from common.errors import NotFoundError
from services.media.db import OPEN_STATUSES, JobStatus
from services.media.ids import TranscriptionJobIds

if TYPE_CHECKING:
    from services.media.activities.transcribe import FinishInput

DOMAIN = "media.central"


class _Status:
    def __init__(self, status: str) -> None:
        self.status = status


class _Audio:
    def __init__(self, audio: bytes, language: str) -> None:
        self.audio = audio
        self.language = language


def job_not_found() -> NotFoundError:
    return NotFoundError("transcription job not found", reason="TRANSCRIPTION_JOB_NOT_FOUND", domain=DOMAIN)


class JobStore:
    def __init__(self, database: Callable[[], Awaitable[Database]]) -> None:
        # Opened on first use: the worker builds its activities before any event loop work.
        self.database = database

    async def audio_of(self, transcription_job_id: str) -> _Audio:
        row = await (await self.database()).fetch_one(
            "SELECT audio, language FROM media.transcription_jobs WHERE transcription_job_id = %s",
            (TranscriptionJobIds.to_uuid(transcription_job_id),),
            row=_Audio,
        )
        if row is None:
            raise job_not_found()
        return row

    async def status_of(self, transcription_job_id: str) -> str:
        row = await (await self.database()).fetch_one(
            "SELECT status FROM media.transcription_jobs WHERE transcription_job_id = %s",
            (TranscriptionJobIds.to_uuid(transcription_job_id),),
            row=_Status,
        )
        # A deleted job is as finished as a cancelled one.
        return row.status if row else JobStatus.CANCELLED

    async def update_open(self, transcription_job_id: str, *, finished: bool = False, **changes: Any) -> str:
        """Set the given columns (and, when `finished`, the finish time) while the job is open;
        the job's status afterwards."""
        assignments = sql.SQL(", ").join(
            [
                *(
                    sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
                    for column in changes
                ),
                *([sql.SQL("finished_at = now()")] if finished else []),
                sql.SQL("updated_at = now()"),
            ]
        )
        query = sql.SQL(
            "UPDATE media.transcription_jobs SET {assignments}"
            " WHERE transcription_job_id = {job} AND status = ANY({open}) RETURNING status"
        ).format(assignments=assignments, job=sql.Placeholder("job"), open=sql.Placeholder("open"))
        row = await (await self.database()).fetch_one(
            query,
            {
                **changes,
                "job": TranscriptionJobIds.to_uuid(transcription_job_id),
                "open": [str(s) for s in OPEN_STATUSES],
            },
            row=_Status,
        )
        return row.status if row else await self.status_of(transcription_job_id)

    async def mark_running(self, transcription_job_id: str) -> str:
        row = await (await self.database()).fetch_one(
            "UPDATE media.transcription_jobs SET status = 'RUNNING',"
            " started_at = coalesce(started_at, now()), updated_at = now()"
            " WHERE transcription_job_id = %s AND status = ANY(%s) RETURNING status",
            (TranscriptionJobIds.to_uuid(transcription_job_id), [str(s) for s in OPEN_STATUSES]),
            row=_Status,
        )
        return row.status if row else await self.status_of(transcription_job_id)

    async def finish(self, input: FinishInput) -> str:
        changes: dict[str, Any] = {"status": input.status}
        if input.transcript is not None:
            changes["transcript"] = Jsonb(asdict(input.transcript))
            changes["progress"] = 1.0
        if input.reason:
            changes["failure_reason"] = input.reason
            changes["failure_message"] = input.message
        return await self.update_open(input.transcription_job_id, finished=True, **changes)
