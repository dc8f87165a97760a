"""Every `central` process runs gRPC with the classic poller (cli/__init__.py), unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cli import GRPC_EXPERIMENTS

# What a process started as `central ...` sees: the setting in its environment when gRPC loads.
_PROBE = "import cli.main, os, sys; print(os.environ.get('GRPC_EXPERIMENTS'), 'grpc' in sys.modules)"


def _probe(**extra: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "GRPC_EXPERIMENTS"} | extra
    return subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.parametrize(
    ("given", "seen"), [(None, GRPC_EXPERIMENTS), ("-event_engine_client", "-event_engine_client")]
)
def test_grpc_loads_with_the_classic_poller_unless_the_operator_chose(given: str | None, seen: str) -> None:
    extra = {} if given is None else {"GRPC_EXPERIMENTS": given}
    assert _probe(**extra) == f"{seen} True"
