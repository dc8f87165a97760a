"""The TypeScript client (clients/typescript) against the session's real stack, with Node's test runner.

`make install` builds the client (dist/) that the Node tests import.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.support.stack import Stack

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


async def test_the_typescript_client_against_the_stack(stack: Stack) -> None:
    assert (CLIENT / "dist" / "index.js").is_file(), "the client is built by `make install`"
    test_files = sorted(str(path.relative_to(CLIENT)) for path in CLIENT.glob("test/*.test.mjs"))
    assert test_files
    node = await asyncio.create_subprocess_exec(
        "node",
        "--test",
        *test_files,
        cwd=CLIENT,
        env={**os.environ, "CENTRAL_URL": stack.gateway_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(node.communicate(), timeout=120)
    report = output.decode()
    assert node.returncode == 0, report
    assert "# fail 0" in report and "# pass 0" not in report, report
