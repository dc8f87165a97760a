"""Keeping child processes running: a child that exits is started again, after a back-off.

A child that keeps crashing (too many exits within a window) is given up on: the supervisor
then sets `stopping`, so that the whole system stops rather than limp along without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from common.logs import get_logger

Start = Callable[[], Awaitable[asyncio.subprocess.Process]]
logger = get_logger("up")


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 0.5
    max_delay: float = 10.0
    # This many exits within `window` seconds, and the child is given up on.
    max_crashes: int = 5
    window: float = 60.0

    def delay(self, recent_crashes: int) -> float:
        return float(min(self.first_delay * 2 ** (recent_crashes - 1), self.max_delay))


def describe_exit(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class Supervisor:
    def __init__(self, stopping: asyncio.Event, policy: RestartPolicy | None = None) -> None:
        self.stopping = stopping
        self.policy = policy or RestartPolicy()
        self.gave_up: list[str] = []
        self.running: dict[str, asyncio.subprocess.Process] = {}
        self._watches: list[asyncio.Task[None]] = []

    async def start(self, name: str, start: Start) -> None:
        """Start a child (a failure to start the first time is raised), and keep it running."""
        self.running[name] = await start()
        logger.info("started %s (pid %d)", name, self.running[name].pid)
        self._watches.append(asyncio.create_task(self._keep_running(name, start)))

    async def _keep_running(self, name: str, start: Start) -> None:
        crashes: deque[float] = deque()
        while True:
            ended = describe_exit(await self.running[name].wait())
            if self.stopping.is_set():
                return  # Ctrl-C reaches the children too: they stop with us, not for a restart.
            while True:
                if self._one_too_many(crashes):
                    logger.error(
                        "%s %s, its %d exit in %.0fs; it keeps crashing: stopping everything",
                        name, ended, len(crashes), self.policy.window,
                    )  # fmt: skip
                    self.gave_up.append(name)
                    self.stopping.set()
                    return
                delay = self.policy.delay(len(crashes))
                logger.warning("%s %s; restarting it in %.1fs", name, ended, delay)
                await asyncio.sleep(delay)
                try:
                    self.running[name] = await start()
                    break
                except Exception as error:  # a failed start counts as one more crash
                    ended = f"did not start again ({error})"
            logger.info("restarted %s (pid %d)", name, self.running[name].pid)

    def _one_too_many(self, crashes: deque[float]) -> bool:
        """Count one more crash; true when the window now holds too many."""
        now = asyncio.get_running_loop().time()
        crashes.append(now)
        while crashes[0] < now - self.policy.window:
            crashes.popleft()
        return len(crashes) >= self.policy.max_crashes

    async def stop(self, grace: float) -> None:
        """No more restarts; SIGTERM to every child, SIGKILL to those still there after `grace`."""
        for watch in self._watches:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        children = [(name, child) for name, child in self.running.items() if child.returncode is None]
        for _, child in children:
            child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(child.wait() for _, child in children)), grace)
        except TimeoutError:
            for name, child in children:
                if child.returncode is None:
                    logger.warning("%s did not stop in %.0fs; killing it", name, grace)
                    child.kill()
                    await child.wait()
