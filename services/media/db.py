"""The media schema as the media service and its activities read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


# A job in one of these may still change; the others are final.
OPEN_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class TranscriptionJobRow:
    """A job without its audio: what every read but the worker's needs."""

    transcription_job_id: UUID
    tenant_id: UUID
    submitted_by: UUID
    idempotency_key: str | None
    status: str
    language: str
    media_type: str
    duration_seconds: float
    progress: float
    transcript: dict[str, Any] | None
    failure_reason: str | None
    failure_message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class AudioRow:
    audio: bytes
    status: str


COLUMNS = (
    "transcription_job_id, tenant_id, submitted_by, idempotency_key, status, language, media_type,"
    " duration_seconds, progress, transcript, failure_reason, failure_message, created_at,"
    " started_at, finished_at"
)
