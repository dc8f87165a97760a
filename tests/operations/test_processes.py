"""The `central` command as operators run it: real processes, signals and exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from common import processes
from common.ports import free_port, wait_for_port
from tests.support.stack import Stack

CENTRAL = str(Path(sys.executable).parent / "central")


def central_env(stack: Stack, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CENTRAL_HOME": str(stack.config.home),
        "CENTRAL_DATABASE_URL": stack.database_url,
        "CENTRAL_TENANTS_ADDR": stack.tenants_address,
        **extra,
    }


async def run_central(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        CENTRAL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, stdout.decode(), stderr.decode())


async def test_operator_commands_print_json_and_exit_nonzero_on_errors(stack: Stack) -> None:
    env = central_env(stack)
    slug = f"cli-{os.urandom(4).hex()}"
    created = await run_central(env, "tenants", "create", "--slug", slug, "--display-name", "CLI Co")
    assert created.returncode == 0, created.stderr
    tenant = json.loads(created.stdout)["tenant"]
    assert (tenant["__type"], tenant["slug"], tenant["displayName"]) == ("TenantPublic", slug, "CLI Co")

    fetched = await run_central(env, "tenants", "get", tenant["tenantId"])
    assert fetched.returncode == 0
    assert json.loads(fetched.stdout) == {"tenant": tenant}

    listed = await run_central(env, "tenants", "list", "--limit", "200")
    assert listed.returncode == 0
    assert tenant in json.loads(listed.stdout)["tenants"]

    again = await run_central(env, "tenants", "create", "--slug", slug, "--display-name", "CLI Co")
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.startswith("ALREADY_EXISTS: ")


async def test_a_bad_configuration_value_exits_2_with_its_name(stack: Stack) -> None:
    result = await run_central(central_env(stack, CENTRAL_TENANTS_ADDR="nowhere"), "tenants", "list")
    assert result.returncode == 2
    assert "CENTRAL_TENANTS_ADDR" in result.stderr


async def test_migrate_is_idempotent(stack: Stack) -> None:
    result = await run_central(central_env(stack), "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{p.schema}: up to date" for p in processes.with_schema()]


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        (["serve", "tenants"], "CENTRAL_TENANTS_ADDR"),
        (["serve", "auth"], "CENTRAL_AUTH_ADDR"),
        (["serve", "gateway"], "CENTRAL_GATEWAY_ADDR"),
    ],
)
async def test_each_process_stops_cleanly_on_sigterm(stack: Stack, command: list[str], variable: str) -> None:
    port = free_port()
    env = central_env(stack, **{variable: f"127.0.0.1:{port}"})
    process = await asyncio.create_subprocess_exec(CENTRAL, *command, env=env)
    try:
        await wait_for_port(port, seconds=20)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.returncode is None:
            process.kill()


@pytest.mark.parametrize("kind", ["grpc", "worker"])
async def test_a_sigterm_while_starting_is_a_clean_stop(stack: Stack, kind: str) -> None:
    env = central_env(stack, CENTRAL_TEMPORAL_ADDR=str(stack.config.temporal_addr))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.sigterm_at_start", kind, env=env
    )
    try:
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()


class Output:
    """Everything a child writes, read as it comes (a pipe nobody reads would stall the child)."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reading = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()

    async def line_matching(self, pattern: str, seconds: float = 30) -> re.Match[str]:
        """The first line (already written or still to come) that matches `pattern`."""
        regex = re.compile(pattern)
        async with asyncio.timeout(seconds), self._changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if match := regex.search(line):
                        return match
                seen = len(self.lines)
                await self._changed.wait()

    async def closed(self) -> str:
        await self._reading
        return "\n".join(self.lines)


async def ready(http: httpx.AsyncClient, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = await http.get("/meta/readiness-probe")
            if response.status_code == 200:
                assert response.json() == {"ready": True}
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "central up did not become ready"
        await asyncio.sleep(0.2)


@pytest.mark.timeout(120)
async def test_up_brings_the_system_up_restarts_a_crashed_child_and_stops(tmp_path: Path) -> None:
    gateway_port, tenants_port, auth_port, temporal_port = free_port(), free_port(), free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("CENTRAL_DATABASE_URL", "CENTRAL_DATABASE_RO_URL")
    } | {
        "CENTRAL_HOME": str(tmp_path / "home"),
        "CENTRAL_GATEWAY_ADDR": f"127.0.0.1:{gateway_port}",
        "CENTRAL_TENANTS_ADDR": f"127.0.0.1:{tenants_port}",
        "CENTRAL_AUTH_ADDR": f"127.0.0.1:{auth_port}",
        "CENTRAL_TEMPORAL_ADDR": f"127.0.0.1:{temporal_port}",
        # As the README suggests; the Temporal dev server refuses it, so it must not inherit it.
        "OTEL_TRACES_EXPORTER": "console",
    }
    process = await asyncio.create_subprocess_exec(
        CENTRAL, "up", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert process.stdout is not None
    output = Output(process.stdout)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as http:
            await ready(http, 60)
            missing = await http.get("/tenants/by-slug/nobody-here")
            assert missing.status_code == 404
            signed_up = await http.post(
                "/signup",
                json={
                    "tenantSlug": "up-test",
                    "tenantDisplayName": "Up",
                    "email": "up@example.com",
                    "password": "a long enough password",
                    "displayName": "Up",
                },
            )
            assert signed_up.status_code == 200, signed_up.text

            # One crashed child comes back alone; the others never notice.
            gateway_pid = int((await output.line_matching(r"started gateway \(pid (\d+)\)"))[1])
            os.kill(gateway_pid, signal.SIGKILL)
            await output.line_matching(r"gateway was killed by SIGKILL; restarting it in")
            restarted_pid = int((await output.line_matching(r"restarted gateway \(pid (\d+)\)"))[1])
            assert restarted_pid != gateway_pid
            await ready(http, 30)
            assert (await http.get("/tenants/by-slug/up-test")).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        everything = await asyncio.wait_for(output.closed(), 10)
        for name in ("temporal", "tenants", "auth", "media", "gateway", "worker-core", "worker-media"):
            assert f"started {name} (pid " in everything
        for name in ("tenants", "auth", "media", "gateway", "worker-core", "worker-media"):
            assert f"{name:<8}| " in everything
        # The embedded PostgreSQL stopped with it.
        assert not (tmp_path / "home" / "postgres" / "postmaster.pid").exists()
    finally:
        if process.returncode is None:
            process.kill()


async def test_healthcheck_reports_ready_and_not_ready(stack: Stack) -> None:
    gateway_addr = stack.gateway_url.removeprefix("http://")
    env = central_env(
        stack,
        CENTRAL_GATEWAY_ADDR=gateway_addr,
        CENTRAL_AUTH_ADDR=stack.auth_address,
        CENTRAL_MEDIA_ADDR=stack.media_address,
        CENTRAL_TEMPORAL_ADDR=str(stack.config.temporal_addr),
    )
    for target in ("tenants", "auth", "media", "gateway", "worker-core", "worker-media"):
        ready = await run_central(env, "healthcheck", target)
        assert (ready.returncode, ready.stdout.strip()) == (0, "ready"), target
    nowhere = f"127.0.0.1:{free_port()}"
    down = central_env(
        stack,
        CENTRAL_GATEWAY_ADDR=nowhere,
        CENTRAL_TENANTS_ADDR=nowhere,
        CENTRAL_AUTH_ADDR=nowhere,
        CENTRAL_MEDIA_ADDR=nowhere,
        CENTRAL_TEMPORAL_ADDR=nowhere,
    )
    for target in ("tenants", "auth", "media", "gateway", "worker-core", "worker-media"):
        not_ready = await run_central(down, "healthcheck", target)
        assert (not_ready.returncode, not_ready.stdout.strip()) == (1, "not ready")
