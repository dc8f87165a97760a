"""`python -m bench.transcription`: the media worker's recogniser, without the rest of the stack.

- Real-time factor of PocketSphinx (audio seconds recognised per wall second) on 30 s of
  espeak-ng speech (the test fixture, repeated), decoding and resampling included.
- Jobs per minute of 30 s each with 1 and 2 recognitions at once, in the media worker's pool
  of recognition processes (services/media/recognition.py) of CENTRAL_MEDIA_CONCURRENCY 1 and 2.
Figures vary with the machine and its other load.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import numpy as np
import soundfile  # type: ignore[import-untyped]

from services.media.activities.transcribe import CHUNK_SECONDS
from services.media.audio import SAMPLE_RATE, decode
from services.media.recognition import InProcesses, InThreads, Recogniser
from services.media.transcribers import PocketSphinxTranscriber

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "media" / "fixtures" / "hello.wav"
SECONDS = 30


def thirty_seconds_of_speech() -> bytes:
    speech, rate = soundfile.read(FIXTURE, dtype="float32")
    repeated = np.tile(speech, int(np.ceil(SECONDS * rate / len(speech))))[: SECONDS * rate]
    buffer = io.BytesIO()
    soundfile.write(buffer, repeated, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


async def one_job(audio: bytes, recognise: Recogniser) -> float:
    """Decode and recognise `audio` in the worker's chunks; its duration in seconds."""
    pcm = decode(audio)
    step = CHUNK_SECONDS * SAMPLE_RATE * 2
    for start in range(0, len(pcm.samples), step):
        await recognise(pcm.samples[start : start + step], "en-US")
    return pcm.duration_seconds


async def main() -> None:
    audio = thirty_seconds_of_speech()
    started = time.perf_counter()
    duration = await one_job(audio, InThreads(PocketSphinxTranscriber()))
    elapsed = time.perf_counter() - started
    print(f"{'scenario':<52} {'value':>10}")
    print(f"{'PocketSphinx real-time factor (audio s / wall s)':<52} {duration / elapsed:>10.1f}")
    for concurrency in (1, 2):
        pool = InProcesses(concurrency, {})
        await pool(b"\0" * SAMPLE_RATE * 2, "en-US")  # the processes start and load their model
        jobs = 2 * concurrency
        started = time.perf_counter()
        await asyncio.gather(*(one_job(audio, pool) for _ in range(jobs)))
        per_minute = jobs / (time.perf_counter() - started) * 60
        await pool.close()
        print(f"{f'30 s jobs per minute, {concurrency} at once':<52} {per_minute:>10.1f}")


if __name__ == "__main__":
    asyncio.run(main())
