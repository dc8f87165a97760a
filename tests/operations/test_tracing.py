"""One request is one trace across processes: the gateway and the tenants service, console-exported."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import sys
from pathlib import Path

import httpx
import pytest

from common.db.embedded import embedded_database_url
from common.ports import free_port, wait_for_port

CENTRAL = str(Path(sys.executable).parent / "central")


@pytest.mark.timeout(90)
async def test_a_request_is_one_trace_across_gateway_tenants_and_postgres(tmp_path: Path) -> None:
    url = os.environ.get("CENTRAL_DATABASE_URL") or embedded_database_url(tmp_path / "db")
    gateway_port, tenants_port = free_port(), free_port()
    env = {
        **os.environ,
        "CENTRAL_HOME": str(tmp_path / "home"),
        "CENTRAL_DATABASE_URL": url,
        "CENTRAL_GATEWAY_ADDR": f"127.0.0.1:{gateway_port}",
        "CENTRAL_TENANTS_ADDR": f"127.0.0.1:{tenants_port}",
        "OTEL_TRACES_EXPORTER": "console",
    }
    migrate = await asyncio.create_subprocess_exec(
        CENTRAL, "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await migrate.wait() == 0
    processes = {
        name: await asyncio.create_subprocess_exec(
            CENTRAL, "serve", name, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        for name in ("tenants", "gateway")
    }
    outputs: dict[str, str] = {}
    trace_id = secrets.token_hex(16)
    try:
        await wait_for_port(tenants_port)
        await wait_for_port(gateway_port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as http:
            response = await http.get(
                "/tenants/by-slug/nobody-here",
                headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
            )
        assert response.status_code == 404
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for name, process in processes.items():
            stdout, _ = await asyncio.wait_for(process.communicate(), 30)
            outputs[name] = stdout.decode()
    # The gateway continued the incoming trace, and the tenants service and its query joined it.
    gateway_traces = set(re.findall(r'"trace_id": "0x([0-9a-f]{32})"', outputs["gateway"]))
    tenants_traces = set(re.findall(r'"trace_id": "0x([0-9a-f]{32})"', outputs["tenants"]))
    assert trace_id in gateway_traces
    assert trace_id in tenants_traces
    assert (
        '"db.system": "postgresql"' in outputs["tenants"]
        or '"db.system.name": "postgresql"' in outputs["tenants"]
    )
    assert '"service.name": "central-gateway"' in outputs["gateway"]
    assert '"service.name": "central-tenants"' in outputs["tenants"]
