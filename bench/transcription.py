"""`python -m bench.transcription` (part of `make bench`): the media queue at work.

- Real-time factor of PocketSphinx (audio seconds recognised per wall second) on 30 s of
  espeak-ng speech (the test fixture, repeated), decoding and resampling included, in-process.
- Jobs per minute with 1 and with 2 media worker processes (`central worker --queue media`,
  each CENTRAL_MEDIA_CONCURRENCY=1) on one Temporal dev server and one PostgreSQL: JOBS jobs of
  10 s of speech and silence each, created by the media service's own code and started on the
  media queue through the TemporalDispatcher, timed from the first submit to the last SUCCEEDED.
Figures vary with the machine and its other load (printed beside them).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import io
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import soundfile  # type: ignore[import-untyped]
import uvloop
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue as TaskQueueRef
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from central.media.v1 import transcription_jobs_pb2 as pb
from common.config import Config, HostPort
from common.container import Container
from common.db.embedded import embedded_database_url
from common.ports import free_port
from common.principal import Principal, PrincipalKind
from common.temporal.client import LazyDispatcher
from common.temporal.queues import TaskQueue
from common.temporal_dev import start_dev_server
from services.auth.ids import TenantUserIds
from services.media.activities.transcribe import CHUNK_SECONDS
from services.media.audio import SAMPLE_RATE, decode
from services.media.recognition import InThreads
from services.media.service import TranscriptionJobService
from services.media.transcribers import PocketSphinxTranscriber
from services.media.workflows.transcribe import TranscribeAudioWorkflow, workflow_id
from services.tenants.ids import TenantIds

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "media" / "fixtures" / "hello.wav"
CENTRAL = str(Path(sys.executable).parent / "central")
RTF_SECONDS = 30
JOB_SECONDS = CHUNK_SECONDS


def speech(seconds: float, tile: bool) -> bytes:
    """`seconds` of the fixture's speech, repeated (`tile`) or once and then silence."""
    voice, rate = soundfile.read(FIXTURE, dtype="float32")
    frames = int(seconds * rate)
    if tile:
        signal_ = np.tile(voice, int(np.ceil(frames / len(voice))))[:frames]
    else:
        signal_ = np.concatenate([voice, np.zeros(frames - len(voice), dtype="float32")])
    buffer = io.BytesIO()
    soundfile.write(buffer, signal_, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


async def real_time_factor() -> float:
    audio = speech(RTF_SECONDS, tile=True)
    recognise = InThreads(PocketSphinxTranscriber())
    started = time.perf_counter()
    pcm = decode(audio)
    step = CHUNK_SECONDS * SAMPLE_RATE * 2
    for start in range(0, len(pcm.samples), step):
        await recognise(pcm.samples[start : start + step], "en-US")
    return pcm.duration_seconds / (time.perf_counter() - started)


@asynccontextmanager
async def media_backend() -> AsyncIterator[dict[str, str]]:
    """A migrated PostgreSQL and a Temporal dev server; yields the environment of their processes."""
    home = tempfile.mkdtemp(prefix="central-bench-media-")
    # Removed at exit after the embedded PostgreSQL stops (atexit runs last-registered first): it
    # stops itself at exit, and cannot once its directory is gone.
    atexit.register(shutil.rmtree, home, True)
    temporal_port = free_port()
    database_url = os.environ.get("CENTRAL_DATABASE_URL") or embedded_database_url(Path(home))
    env = {
        **os.environ,
        "CENTRAL_HOME": home,
        "CENTRAL_DATABASE_URL": database_url,
        "CENTRAL_TEMPORAL_ADDR": f"127.0.0.1:{temporal_port}",
        "CENTRAL_LOG_LEVEL": "WARNING",
        "CENTRAL_MEDIA_CONCURRENCY": "1",
    }
    migrate = await asyncio.create_subprocess_exec(
        CENTRAL, "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await migrate.wait() == 0
    temporal = await start_dev_server(HostPort("127.0.0.1", temporal_port), Path(home) / "temporal.db")
    try:
        yield env
    finally:
        temporal.terminate()
        await temporal.wait()


@asynccontextmanager
async def media_workers(env: dict[str, str], count: int, container: Container) -> AsyncIterator[None]:
    """`count` media worker processes, once Temporal sees each of them poll the media queue."""
    children = [
        await asyncio.create_subprocess_exec(
            CENTRAL, "worker", "--queue", str(TaskQueue.MEDIA), env=env, start_new_session=True
        )
        for _ in range(count)
    ]
    try:
        client = (await LazyDispatcher(container.config)()).client
        wanted = {str(child.pid) for child in children}
        async with asyncio.timeout(60):
            while True:
                described = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=container.config.temporal_namespace,
                        task_queue=TaskQueueRef(name=str(TaskQueue.MEDIA)),
                        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
                    )
                )
                if wanted <= {poller.identity.split("@", 1)[0] for poller in described.pollers}:
                    break
                await asyncio.sleep(0.2)
        yield
    finally:
        # Each with its recognition processes (its own process group).
        for child in children:
            os.killpg(child.pid, signal.SIGKILL)
        for child in children:
            await child.wait()


async def run_jobs(service: TranscriptionJobService, dispatcher: LazyDispatcher, jobs: int) -> float:
    """Submit `jobs` jobs at once; the seconds until the last one SUCCEEDED."""
    # The media service trusts the principal the gateway signed: no tenant or user row is needed.
    tenant_id = TenantIds.new()
    submitter = Principal(PrincipalKind.USER, tenant_id=tenant_id, tenant_user_id=TenantUserIds.new())
    audio = speech(JOB_SECONDS, tile=False)
    client = (await dispatcher()).client
    started = time.perf_counter()
    created = await asyncio.gather(
        *(
            service.create_job(submitter, pb.CreateTranscriptionJobInput(tenant_id=tenant_id, audio=audio))
            for _ in range(jobs)
        )
    )
    results = await asyncio.gather(
        *(
            client.get_workflow_handle_for(
                TranscribeAudioWorkflow.run, workflow_id(job.transcription_job_id)
            ).result()
            for job in created
        )
    )
    elapsed = time.perf_counter() - started
    assert {result.status for result in results} == {"SUCCEEDED"}, results
    return elapsed


async def main(jobs: int) -> None:
    rows = [("PocketSphinx real-time factor (audio s / wall s)", await real_time_factor())]
    async with media_backend() as env:
        container = Container.create(Config.from_env(env))
        pools = await container.pools()
        dispatcher = LazyDispatcher(container.config)
        service = TranscriptionJobService(pools.rw, pools.ro, container.cursors, dispatcher)
        for workers in (1, 2):
            async with media_workers(env, workers, container):
                # Each worker's recognition process starts, and loads its model, on its first job.
                await run_jobs(service, dispatcher, 2 * workers)
                elapsed = await run_jobs(service, dispatcher, jobs)
            processes = f"{workers} media worker process{'es' if workers > 1 else ''}"
            rows.append((f"{JOB_SECONDS} s jobs per minute, {jobs} jobs, {processes}", jobs / elapsed * 60))
        await container.close()
    print(f"{'scenario':<60} {'value':>10}")
    for name, value in rows:
        print(f"{name:<60} {value:>10.1f}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load}, on {os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=12, help="jobs per measured run")
    uvloop.run(main(parser.parse_args().jobs))
