"""A media worker process killed (SIGKILL, no goodbye) while it recognises a chunk: another
worker process takes the job over from the last chunk the dead one heartbeated, and the job
ends SUCCEEDED once, its transcript whole.

Both workers are real processes (tests/support/media_worker.py: the media queue's workload, as
`central worker --queue media` builds it) on a queue of this test's, against the session's
PostgreSQL and Temporal; the job is created by the media service's own code.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from central.media.v1 import transcription_jobs_pb2 as pb
from common.principal import Principal, PrincipalKind
from common.temporal.dispatcher import TemporalDispatcher
from services.media.activities.transcribe import CHUNK_SECONDS, RecognitionProgress
from services.media.service import TranscriptionJobService
from services.media.workflows.transcribe import TranscribeAudioWorkflow, workflow_id
from tests.media.audio_samples import speech_chunks_wav
from tests.support.actors import Actor, signed_in
from tests.support.stack import Stack

CHUNKS = 4
# Short, so that Temporal gives the dead worker's chunk to the other one within seconds; not
# shorter, for Temporal's SDK sends a heartbeat at most every 80 % of it, on a busy machine.
HEARTBEAT_SECONDS = 5


class OnTheTestsQueue(TemporalDispatcher):
    """Starts workflows on the test's queue, which the session's own media worker does not poll."""

    def __init__(self, client: Client, task_queue: str) -> None:
        super().__init__(client)
        self.task_queue = task_queue

    async def start(
        self,
        run: Callable[[Any, Any], Awaitable[Any]],
        input: Any,
        *,
        id: str,
        queue: Any = None,
        already_running_ok: bool = False,
    ) -> None:
        await self.client.start_workflow(run, input, id=id, task_queue=self.task_queue)


class WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, stack: Stack, queue: str, log: Path) -> WorkerProcess:
        env = {
            **os.environ,
            "CENTRAL_HOME": str(stack.config.home),
            "CENTRAL_DATABASE_URL": stack.database_url,
            "CENTRAL_TEMPORAL_ADDR": str(stack.config.temporal_addr),
            "CENTRAL_MEDIA_CONCURRENCY": "1",
            "CENTRAL_MEDIA_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "CENTRAL_LOG_LEVEL": "DEBUG",
        }
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.support.media_worker",
                queue,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                # Its own process group: killed with its recognition processes, as a container is.
                start_new_session=True,
            )
        worker = cls(process, log)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"polling", worker.log.read_text()
        return worker

    async def kill(self) -> None:
        if self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()

    def chunks_recognised(self, job_id: str) -> list[int]:
        """The chunks (from 1) this worker logged as recognised for the job, in order."""
        pattern = re.compile(rf"{re.escape(job_id)}: chunk (\d+) of {CHUNKS} recognised")
        return [int(m.group(1)) for m in pattern.finditer(self.log.read_text())]


async def create_job(stack: Stack, member: Actor, queue: str) -> str:
    pools = await stack.container.pools()

    async def dispatcher() -> TemporalDispatcher:
        return OnTheTestsQueue(stack.temporal, queue)

    service = TranscriptionJobService(pools.rw, pools.ro, stack.container.cursors, dispatcher)
    principal = Principal(
        PrincipalKind.USER,
        tenant_id=member.tenant_id,
        tenant_user_id=member.user.tenant_user_id,
        role="member",
    )
    job = await service.create_job(
        principal,
        pb.CreateTranscriptionJobInput(
            tenant_id=member.tenant_id, audio=speech_chunks_wav(CHUNKS, CHUNK_SECONDS)
        ),
    )
    return job.transcription_job_id


async def heartbeated(client: Client, handle: WorkflowHandle[Any, Any]) -> RecognitionProgress | None:
    """What the recognition's last heartbeat recorded, as Temporal holds it; None before one."""
    described = await handle.describe()
    for pending in described.raw_description.pending_activities:
        if pending.activity_type.name == "media.recognise" and pending.heartbeat_details.payloads:
            [progress] = await client.data_converter.decode(
                pending.heartbeat_details.payloads, [RecognitionProgress]
            )
            assert isinstance(progress, RecognitionProgress)
            return progress
    return None


async def test_a_job_whose_worker_is_killed_mid_chunk_resumes_on_another_and_succeeds_once(
    stack: Stack, tmp_path: Path
) -> None:
    queue = f"media-killed-{secrets.token_hex(4)}"
    member = await signed_in(stack, role="member")
    doomed = await WorkerProcess.start(stack, queue, tmp_path / "doomed.log")
    try:
        job_id = await create_job(stack, member, queue)
        handle = stack.temporal.get_workflow_handle_for(TranscribeAudioWorkflow.run, workflow_id(job_id))
        # Killed as soon as Temporal holds a chunk's heartbeat: it is recognising the next one.
        async with asyncio.timeout(40):
            while True:
                progress = await heartbeated(stack.temporal, handle)
                if progress and progress.chunks_done:
                    break
                await asyncio.sleep(0.1)
    finally:
        await doomed.kill()
    last = await heartbeated(stack.temporal, handle)
    assert last is not None
    resumed_from = last.chunks_done
    assert 1 <= resumed_from < CHUNKS, doomed.log.read_text()

    successor = await WorkerProcess.start(stack, queue, tmp_path / "successor.log")
    try:
        result = await asyncio.wait_for(handle.result(), 40)
    finally:
        await successor.kill()
    assert result.status == "SUCCEEDED"

    # The dead worker had recognised chunks up to the heartbeated one at least; the successor
    # began after it, not from zero, and went on to the end.
    assert doomed.chunks_recognised(job_id)[:resumed_from] == list(range(1, resumed_from + 1))
    assert successor.chunks_recognised(job_id) == list(range(resumed_from + 1, CHUNKS + 1)), (
        successor.log.read_text()
    )

    # One retry of the recognition, and one of everything else: the status went to SUCCEEDED
    # and the transcript was written by one finish.
    events = (await handle.fetch_history()).events
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    assert Counter(scheduled.values()) == {"media.prepare": 1, "media.recognise": 1, "media.finish": 1}
    completed = Counter(
        scheduled[e.activity_task_completed_event_attributes.scheduled_event_id]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    )
    assert completed == {"media.prepare": 1, "media.recognise": 1, "media.finish": 1}
    attempts = {
        scheduled[e.activity_task_started_event_attributes.scheduled_event_id]: (
            e.activity_task_started_event_attributes.attempt
        )
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    }
    assert attempts["media.recognise"] >= 2
    assert (attempts["media.prepare"], attempts["media.finish"]) == (1, 1)

    # The tenant sees it done, with every chunk's words once, in order.
    response = await stack.http.get(
        f"/tenants/{member.tenant_id}/transcription-jobs/{job_id}", headers=member.cookie
    )
    job = response.json()["transcriptionJob"]
    assert (job["status"], job["progress"]) == ("SUCCEEDED", 1)
    segments = job["transcript"]["segments"]
    assert [int(s["startSeconds"] // CHUNK_SECONDS) for s in segments] == list(range(CHUNKS))
    assert job["transcript"]["text"].split().count("hello") == CHUNKS
