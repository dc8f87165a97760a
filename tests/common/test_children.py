"""Child processes: only the variables they need, and every line of their output relayed."""

from __future__ import annotations

import asyncio

import pytest

from common.children import child_environment, relayed, spawn


def test_a_child_gets_the_basics_and_only_the_variables_asked_for() -> None:
    ours = {
        "PATH": "/usr/bin",
        "LC_ALL": "C.UTF-8",
        "OTEL_TRACES_EXPORTER": "console",
        "CENTRAL_HOME": "/srv/central",
        "TEMPORAL_ADDRESS": "elsewhere:7233",
        "AWS_SECRET_ACCESS_KEY": "not for children",
    }
    assert child_environment(env=ours) == {"PATH": "/usr/bin", "LC_ALL": "C.UTF-8"}
    assert child_environment("CENTRAL_", "OTEL_", env=ours) == {
        "PATH": "/usr/bin",
        "LC_ALL": "C.UTF-8",
        "OTEL_TRACES_EXPORTER": "console",
        "CENTRAL_HOME": "/srv/central",
    }


async def test_every_line_of_a_child_is_relayed_with_its_name(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    long_line = "x" * 200_000
    script = "echo out; echo err >&2; head -c 200000 /dev/zero | tr '\\0' x; echo; printf 'no newline'"
    child = await spawn("echoer", "/bin/sh", "-c", script, env=child_environment())
    # The relay drains the pipe: a child that writes more than a pipe holds still ends.
    assert await asyncio.wait_for(child.wait(), 10) == 0
    await relayed(child)
    # Other tests' children may be relayed meanwhile: keep this child's lines only.
    out = capsysbinary.readouterr().out
    assert out.endswith(b"\n")
    lines = [line for line in out.split(b"\n") if line.startswith(b"echoer  | ")]
    assert lines[:2] == [b"echoer  | out", b"echoer  | err"]
    assert lines[-1] == b"echoer  | no newline"
    pieces = lines[2:-1]
    assert b"".join(piece.removeprefix(b"echoer  | ") for piece in pieces) == long_line.encode()
