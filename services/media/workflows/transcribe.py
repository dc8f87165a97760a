"""TranscribeAudio: one transcription job, from QUEUED to a final status, on the media queue.

The audio never enters the workflow's history: the activities read it from the job's row.
A cancel request marks the job CANCELLED in the database first (the service does), then
cancels this workflow; every status the activities write is conditional on the job being
still open, so a late activity never overwrites a cancel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from common.temporal.queues import TaskQueue, runs_on

with workflow.unsafe.imports_passed_through():
    from services.media.activities.transcribe import (
        BAD_AUDIO,
        FinishInput,
        JobInput,
        PrepareOutput,
        RecogniseOutput,
        TranscriptionActivities,
    )


@dataclass(frozen=True)
class TranscribeAudioInput:
    transcription_job_id: str


@dataclass(frozen=True)
class TranscribeAudioOutput:
    status: str


def workflow_id(transcription_job_id: str) -> str:
    return f"transcribe-{transcription_job_id}"


SHORT = timedelta(seconds=30)
RECOGNITION = timedelta(hours=2)
RETRIES = RetryPolicy(maximum_attempts=5, non_retryable_error_types=[BAD_AUDIO])
# A job whose recognition gave up for another cause than its audio (its retries spent, say):
# it still ends, FAILED, rather than stay RUNNING with no workflow left to finish it.
RECOGNITION_FAILED = "RECOGNITION_FAILED"


@runs_on(TaskQueue.MEDIA)
@workflow.defn(name="TranscribeAudio")
class TranscribeAudioWorkflow:
    @workflow.run
    async def run(self, input: TranscribeAudioInput) -> TranscribeAudioOutput:
        job = JobInput(input.transcription_job_id)
        try:
            prepared: PrepareOutput = await workflow.execute_activity_method(
                TranscriptionActivities.prepare, job, start_to_close_timeout=SHORT, retry_policy=RETRIES
            )
            if not prepared.open:
                return TranscribeAudioOutput(prepared.status)
            recognised: RecogniseOutput = await workflow.execute_activity_method(
                TranscriptionActivities.recognise,
                job,
                start_to_close_timeout=RECOGNITION,
                # A killed worker's chunk is picked up again after this long without a heartbeat.
                heartbeat_timeout=timedelta(seconds=prepared.heartbeat_seconds),
                retry_policy=RETRIES,
            )
            finish = FinishInput(input.transcription_job_id, "SUCCEEDED", transcript=recognised.transcript)
        except ActivityError as error:
            finish = _failed(input.transcription_job_id, error)
        finished = await workflow.execute_activity_method(
            TranscriptionActivities.finish, finish, start_to_close_timeout=SHORT, retry_policy=RETRIES
        )
        return TranscribeAudioOutput(finished.status)


def _failed(transcription_job_id: str, error: ActivityError) -> FinishInput:
    """How a job whose step failed ends: with its audio's reason, or RECOGNITION_FAILED."""
    cause = error.cause
    if isinstance(cause, CancelledError):
        raise error
    if isinstance(cause, ApplicationError) and cause.type == BAD_AUDIO:
        reason, message = cause.details if len(cause.details) == 2 else (BAD_AUDIO, cause.message)
    else:
        workflow.logger.warning("transcription job %s gave up: %s", transcription_job_id, cause)
        reason, message = RECOGNITION_FAILED, "the audio could not be transcribed; submit it again later"
    return FinishInput(transcription_job_id, "FAILED", reason=str(reason), message=str(message))
