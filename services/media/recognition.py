"""Where recognition runs: in processes of their own in the worker, in threads in tests.

PocketSphinx holds the GIL while it decodes (seconds per chunk, measured): in a thread it
would stall the worker's event loop, its heartbeats and every other job for that long. So the
worker recognises in a pool of processes, one per job it may run at once, each loading its
recogniser once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

from services.media.transcribers import Segment, Transcriber, select_transcriber


class Recogniser(Protocol):
    async def __call__(self, pcm: bytes, language: str) -> list[Segment]: ...


class InThreads:
    """For a transcriber that releases the GIL, or a stand-in in tests."""

    def __init__(self, transcriber: Transcriber) -> None:
        self.transcriber = transcriber

    async def __call__(self, pcm: bytes, language: str) -> list[Segment]:
        return await asyncio.to_thread(self.transcriber.transcribe, pcm, language)


_transcriber: Transcriber | None = None


def _load(env: dict[str, str]) -> None:
    global _transcriber
    _transcriber = select_transcriber(env)


def _transcribe(pcm: bytes, language: str) -> list[Segment]:
    assert _transcriber is not None, "the pool's initializer loads it"
    return _transcriber.transcribe(pcm, language)


class InProcesses:
    def __init__(self, processes: int, env: Mapping[str, str]) -> None:
        # Spawned, not forked: the worker's gRPC and Temporal threads must not be forked.
        self.pool = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(dict(env),),
        )

    async def __call__(self, pcm: bytes, language: str) -> list[Segment]:
        return await asyncio.get_running_loop().run_in_executor(self.pool, _transcribe, pcm, language)

    async def close(self) -> None:
        await asyncio.to_thread(self.pool.shutdown, cancel_futures=True)
