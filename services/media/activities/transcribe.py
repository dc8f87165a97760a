"""The TranscribeAudio workflow's activities: they read and write the job's own row (the media
schema is this domain's), decode in a thread and recognise through a Recogniser
(services/media/recognition.py), all off the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from common.logs import get_logger
from services.media.audio import SAMPLE_RATE, BadAudioError, Pcm, decode
from services.media.jobs import JobStore
from services.media.recognition import Recogniser
from services.media.settings import DEFAULT_HEARTBEAT_SECONDS
from services.media.transcribers import Segment

# The ApplicationError type of audio that no retry can decode.
BAD_AUDIO = "BadAudio"
# Recognised, heartbeated and resumed in chunks of this many seconds.
CHUNK_SECONDS = 10


@dataclass(frozen=True)
class JobInput:
    transcription_job_id: str


@dataclass(frozen=True)
class PrepareOutput:
    status: str
    open: bool
    # The media worker's heartbeat timeout (its setting), for the workflow to schedule the
    # recognition with: a workflow reads no settings, an activity's result is in its history.
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS


@dataclass(frozen=True)
class TranscriptSegmentData:
    start_seconds: float
    end_seconds: float
    text: str


@dataclass(frozen=True)
class TranscriptData:
    text: str
    segments: list[TranscriptSegmentData] = field(default_factory=list)


@dataclass(frozen=True)
class RecogniseOutput:
    transcript: TranscriptData


@dataclass(frozen=True)
class FinishInput:
    transcription_job_id: str
    status: str
    transcript: TranscriptData | None = None
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class FinishOutput:
    status: str


@dataclass(frozen=True)
class RecognitionProgress:
    """The heartbeat: the chunks done so far, so that a retry resumes after them."""

    chunks_done: int
    segments: list[TranscriptSegmentData]


class TranscriptionActivities:
    def __init__(
        self,
        jobs: JobStore,
        recognise: Recogniser,
        heartbeat_timeout: timedelta = timedelta(seconds=DEFAULT_HEARTBEAT_SECONDS),
    ) -> None:
        self.jobs = jobs
        self.recognise_chunk = recognise
        self.heartbeat_timeout = heartbeat_timeout
        self.logger = get_logger("media.transcription")

    async def _decoded(self, transcription_job_id: str) -> tuple[Pcm, str]:
        audio = await self.jobs.audio_of(transcription_job_id)
        try:
            return await asyncio.to_thread(decode, audio.audio), audio.language
        except BadAudioError as error:
            raise ApplicationError(
                error.message, error.reason, error.message, type=BAD_AUDIO, non_retryable=True
            ) from None

    @activity.defn(name="media.prepare")
    async def prepare(self, input: JobInput) -> PrepareOutput:
        """Mark the job RUNNING, and record its duration once its audio decodes."""
        heartbeat_seconds = self.heartbeat_timeout.total_seconds()
        status = await self.jobs.mark_running(input.transcription_job_id)
        if status != "RUNNING":
            return PrepareOutput(status, open=False, heartbeat_seconds=heartbeat_seconds)
        pcm, _ = await self._decoded(input.transcription_job_id)
        await self.jobs.update_open(input.transcription_job_id, duration_seconds=pcm.duration_seconds)
        return PrepareOutput(status, open=True, heartbeat_seconds=heartbeat_seconds)

    @activity.defn(name="media.recognise")
    async def recognise(self, input: JobInput) -> RecogniseOutput:
        pcm, language = await self._decoded(input.transcription_job_id)
        chunk_bytes = CHUNK_SECONDS * SAMPLE_RATE * 2
        chunks = [pcm.samples[i : i + chunk_bytes] for i in range(0, len(pcm.samples), chunk_bytes)]
        progress = _resumed_progress()
        segments = list(progress.segments)
        for index in range(progress.chunks_done, len(chunks)):
            found = await self._recognised_heartbeating(chunks[index], language, progress)
            segments.extend(_shifted(found, index * CHUNK_SECONDS))
            progress = RecognitionProgress(index + 1, segments)
            activity.heartbeat(progress)
            self.logger.debug(
                "%s: chunk %d of %d recognised", input.transcription_job_id, index + 1, len(chunks)
            )
            await self.jobs.update_open(input.transcription_job_id, progress=(index + 1) / len(chunks))
        text = " ".join(s.text for s in segments if s.text)
        return RecogniseOutput(TranscriptData(text, segments))

    async def _recognised_heartbeating(
        self, chunk: bytes, language: str, progress: RecognitionProgress
    ) -> list[Segment]:
        """The chunk's words, heartbeating the progress so far meanwhile: a chunk may take longer
        than the heartbeat timeout on a busy machine, and a live worker must not lose its job."""
        every = (activity.info().heartbeat_timeout or self.heartbeat_timeout) / 3
        recognising = asyncio.ensure_future(self.recognise_chunk(chunk, language))
        try:
            while True:
                done, _ = await asyncio.wait({recognising}, timeout=every.total_seconds())
                if done:
                    return recognising.result()
                activity.heartbeat(progress)
        finally:
            recognising.cancel()

    @activity.defn(name="media.finish")
    async def finish(self, input: FinishInput) -> FinishOutput:
        return FinishOutput(await self.jobs.finish(input))


def _resumed_progress() -> RecognitionProgress:
    details = activity.info().heartbeat_details
    if not details:
        return RecognitionProgress(0, [])
    last = details[-1]
    if isinstance(last, RecognitionProgress):
        return last
    # Heartbeat details come back as plain JSON values.
    return RecognitionProgress(
        int(last["chunks_done"]), [TranscriptSegmentData(**segment) for segment in last["segments"]]
    )


def _shifted(segments: list[Segment], offset: float) -> list[TranscriptSegmentData]:
    return [
        TranscriptSegmentData(round(s.start_seconds + offset, 2), round(s.end_seconds + offset, 2), s.text)
        for s in segments
    ]
