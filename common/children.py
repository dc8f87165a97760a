"""Child processes that Central starts: what they inherit, and where their output goes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping

# What any program needs to run. Nothing else is passed on unless asked for by prefix: a
# variable meant for us (OTEL_TRACES_EXPORTER=console) can make another program refuse to start.
_BASICS = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"}
)
_BASIC_PREFIXES = ("LC_",)
_CHUNK = 64 * 1024
_relays: dict[asyncio.subprocess.Process, asyncio.Task[None]] = {}


def child_environment(*prefixes: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The basics of `env` (ours by default), and its variables whose names start with `prefixes`."""
    env = os.environ if env is None else env
    wanted = (*_BASIC_PREFIXES, *prefixes)
    return {name: value for name, value in env.items() if name in _BASICS or name.startswith(wanted)}


async def relay_output(name: str, stream: asyncio.StreamReader) -> None:
    """Every line of `stream` to our standard output, prefixed by `name`, until it closes.

    Read in chunks, not lines: a line longer than the reader's limit must not stop the relay
    (the child would then block on a full pipe). Such a line is passed on in pieces.
    """
    prefix = f"{name:<8}| ".encode()
    pending = b""
    while chunk := await stream.read(_CHUNK):
        *lines, pending = (pending + chunk).split(b"\n")
        if len(pending) >= _CHUNK:
            lines.append(pending)
            pending = b""
        _write(prefix, lines)
    _write(prefix, [pending] if pending else [])


def _write(prefix: bytes, lines: list[bytes]) -> None:
    if lines:
        sys.stdout.buffer.write(b"".join(prefix + line + b"\n" for line in lines))
        sys.stdout.flush()


async def spawn(name: str, *argv: str, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    """Start `argv` with exactly `env`; its output (stdout and stderr) is relayed under `name`.

    The relay drains the pipe for as long as the child lives, so the child never blocks on it.
    """
    process = await asyncio.create_subprocess_exec(
        *argv, env=dict(env), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    relay = asyncio.create_task(relay_output(name, process.stdout))
    _relays[process] = relay
    relay.add_done_callback(lambda _: _relays.pop(process, None))
    return process


async def relayed(*processes: asyncio.subprocess.Process) -> None:
    """Wait until the output of `processes` (of every child, when none is named) is relayed.

    Call it once they have exited: a live child's relay ends only with the child.
    """
    relays = [_relays[p] for p in processes if p in _relays] if processes else list(_relays.values())
    await asyncio.gather(*relays, return_exceptions=True)
