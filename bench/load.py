"""Closed-loop load: N workers, each sending its next request when the last one answered."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.cpu import CpuReading


@dataclass(frozen=True)
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    # Microseconds of CPU per request, by process (bench/cpu.py); empty when not measured.
    cpu_us: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def run_load(
    name: str,
    concurrency: int,
    seconds: float,
    make_worker: Callable[[], Awaitable[Callable[[], Awaitable[bool]]]],
    processes: Callable[[], dict[str, list[int]]] | None = None,
) -> Result:
    """`make_worker` opens one connection and returns its request function (True when it succeeded).

    `processes` names the processes whose CPU time per request to report, asked after the
    warm-up (when every worker process of a server exists).
    """
    workers = [await make_worker() for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0
    stop_at = 0.0

    async def loop(request: Callable[[], Awaitable[bool]]) -> None:
        nonlocal errors
        while (started := time.perf_counter()) < stop_at:
            ok = await request()
            latencies.append(time.perf_counter() - started)
            errors += not ok

    # Warm up (connections, caches, prepared statements), then measure.
    stop_at = time.perf_counter() + min(1.0, seconds / 3)
    await asyncio.gather(*(loop(w) for w in workers))
    latencies.clear()
    errors = 0
    pids = processes() if processes is not None else {}
    cpu_before = CpuReading.take(pids)
    began = time.perf_counter()
    stop_at = began + seconds
    await asyncio.gather(*(loop(w) for w in workers))
    elapsed = time.perf_counter() - began
    cpu_us = cpu_before.per_request_us(CpuReading.take(pids), len(latencies))
    quantiles = statistics.quantiles(latencies, n=100)
    return Result(
        name,
        concurrency,
        len(latencies),
        errors,
        elapsed,
        quantiles[49] * 1000,
        quantiles[98] * 1000,
        cpu_us,
    )


class HttpConnection:
    """A keep-alive HTTP/1.1 connection with just enough parsing to time GETs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def get(self, path: str, headers: str = "") -> int:
        return (await self.fetch(path, headers))[0]

    async def fetch(self, path: str, headers: str = "") -> tuple[int, bytes]:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)


def median_of(results: list[Result]) -> Result:
    """One row for several turns of the same scenario: each figure the median of its turns."""
    first = results[0]
    return Result(
        first.name,
        first.concurrency,
        round(statistics.median(r.requests for r in results)),
        sum(r.errors for r in results),
        statistics.median(r.seconds for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        {name: statistics.median(r.cpu_us[name] for r in results) for name in first.cpu_us},
    )
