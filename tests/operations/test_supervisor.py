"""`central up`'s supervisor: a crashed child comes back after a back-off; one that keeps crashing
stops everything."""

from __future__ import annotations

import asyncio
import logging
import signal
from functools import partial
from pathlib import Path

import pytest

from cli.supervisor import RestartPolicy, Start, Supervisor
from common.children import child_environment, spawn

FAST = RestartPolicy(first_delay=0.01, max_delay=0.05, max_crashes=3, window=60)


def shell(script: str, **variables: str) -> Start:
    return partial(spawn, "child", "/bin/sh", "-c", script, env=child_environment() | variables)


async def test_a_crashed_child_is_restarted_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="central.up")
    stopping = asyncio.Event()
    supervisor = Supervisor(stopping, FAST)
    # Crashes the first time, then stays up.
    script = shell('[ -e "$MARK" ] && exec sleep 60; touch "$MARK"; exit 3', MARK=str(tmp_path / "mark"))
    started: list[asyncio.subprocess.Process] = []
    restarted = asyncio.Event()

    async def start() -> asyncio.subprocess.Process:
        started.append(await script())
        if len(started) == 2:
            restarted.set()
        return started[-1]

    await supervisor.start("flaky", start)
    await asyncio.wait_for(restarted.wait(), 10)
    first, again = started
    assert first.returncode == 3
    assert any(m.startswith("flaky exited with code 3; restarting it in") for m in caplog.messages)
    await asyncio.sleep(0.1)
    assert again.returncode is None
    assert any(m == f"restarted flaky (pid {again.pid})" for m in caplog.messages)
    await supervisor.stop(grace=5)
    assert await again.wait() == -15
    assert (supervisor.gave_up, stopping.is_set()) == ([], False)


async def test_a_child_that_keeps_crashing_stops_everything(caplog: pytest.LogCaptureFixture) -> None:
    stopping = asyncio.Event()
    supervisor = Supervisor(stopping, FAST)
    starts = 0

    async def start() -> asyncio.subprocess.Process:
        nonlocal starts
        starts += 1
        return await shell("exit 4")()

    await supervisor.start("doomed", start)
    await asyncio.wait_for(stopping.wait(), 10)
    assert (supervisor.gave_up, starts) == (["doomed"], FAST.max_crashes)
    assert any(
        "doomed exited with code 4, its 3 exit" in m and "keeps crashing" in m for m in caplog.messages
    )
    await supervisor.stop(grace=1)


async def test_a_child_that_stops_with_us_is_not_restarted(caplog: pytest.LogCaptureFixture) -> None:
    stopping = asyncio.Event()
    supervisor = Supervisor(stopping, FAST)
    await supervisor.start("calm", shell("exec sleep 60"))
    child = supervisor.running["calm"]
    # Ctrl-C in a terminal reaches the whole process group: us and the children at once.
    stopping.set()
    child.send_signal(signal.SIGINT)
    await child.wait()
    await asyncio.sleep(FAST.max_delay * 2)
    assert supervisor.running["calm"] is child
    assert not any("restarting" in m for m in caplog.messages)
    await supervisor.stop(grace=1)
