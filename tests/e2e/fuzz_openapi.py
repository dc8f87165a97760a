"""Schemathesis, every check, against the real stack's /openapi.json: `make fuzz`.

Not part of `make test`: the file name matches no test pattern, so pytest collects it only
when named, as `make fuzz` names it. It reuses the integration stack (conftest.py), signs up
a tenant for a session, then runs the schemathesis CLI twice: once without the session,
every path parameter generated; once with the session, the tenant's own ID in every
`{tenantId}` so that the fuzzer reaches past the 404 of a stranger's tenant. Each run is
bounded in examples per operation and in seconds; both must find no 5xx and no response
that breaks the document. A failing run prints schemathesis' report, with the request
that reproduces each failure.

CENTRAL_FUZZ_MAX_EXAMPLES (default 25) and CENTRAL_FUZZ_SECONDS (default 90, per run)
change the bounds; CENTRAL_FUZZ_SEED replays a run; CENTRAL_FUZZ_ARGS adds arguments of
`schemathesis run` (e.g. `--include-path-regex /users`).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shlex
import sys
from pathlib import Path

import pytest

from tests.support.actors import PASSWORD, fresh_address, session_token
from tests.support.stack import Stack

MAX_EXAMPLES = int(os.environ.get("CENTRAL_FUZZ_MAX_EXAMPLES", "25"))
SECONDS = int(os.environ.get("CENTRAL_FUZZ_SECONDS", "90"))
SEED = os.environ.get("CENTRAL_FUZZ_SEED")
EXTRA_ARGUMENTS = shlex.split(os.environ.get("CENTRAL_FUZZ_ARGS", ""))


async def _signed_up(stack: Stack) -> tuple[str, str]:
    """A new tenant and its admin's session: (tenant ID, session token)."""
    slug = f"fuzz-{secrets.token_hex(4)}"
    response = await stack.http.post(
        "/signup",
        json={
            "tenantSlug": slug,
            "tenantDisplayName": "Fuzz",
            "email": "fuzz@example.com",
            "password": PASSWORD,
            "displayName": "Fuzz",
        },
        headers={"x-forwarded-for": fresh_address()},
    )
    assert response.status_code == 200, response.text
    return response.json()["tenant"]["tenantId"], session_token(response)


# Where a schema-valid request may still get a 400, for a reason the document cannot state:
# a cursor this list did not sign (any string fits the schema), a tenant whose state forbids
# the change (its last admin, its last enabled connector: FAILED_PRECONDITION), a password
# under the minimum that the tenant's password connector sets, and a single sign-on callback
# outside a flow the browser started.
# Every other check, and the other statuses of these operations, still hold.
_VALID_BUT_REFUSED = {
    "a cursor the list did not issue": [
        "ListTenantUsers",
        "ListAuthConnectors",
        "ListMySessions",
        "ListTranscriptionJobs",
    ],
    "the tenant's last admin or login connector": [
        "OffboardTenantUser",
        "DeleteAuthConnector",
        "DisableAuthConnector",
    ],
    "a password shorter than the tenant's own connector asks (at least 8, as documented)": [
        "CreateTenantUser"
    ],
    "a login state that only a browser inside the flow holds (its pre-login cookie)": ["FinishOidcLogin"],
    "audio that is no WAV or FLAC (sniffed from the bytes, which no schema can state)": [
        "CreateTranscriptionJob"
    ],
}
# schemathesis' own list, and 400.
_POSITIVE_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


def _schemathesis_config(tenant_id: str | None, token: str | None) -> str:
    """schemathesis.toml: the session as the TenantUserCookie scheme, the tenant in every path."""
    lines = []
    if token is not None:
        lines += ["[auth.openapi.TenantUserCookie]", f"api_key = {json.dumps(token)}", ""]
    if tenant_id is not None:
        lines += ["[parameters]", f'"path.tenantId" = {json.dumps(tenant_id)}', ""]
    for reason, operations in _VALID_BUT_REFUSED.items():
        lines += [
            f"# {reason}",
            "[[operations]]",
            f"include-operation-id = {json.dumps(operations)}",
            f"checks.positive_data_acceptance.expected-statuses = {json.dumps(_POSITIVE_STATUSES)}",
            "",
        ]
    return "\n".join(lines)


async def _run_schemathesis(stack: Stack, config_file: Path, exclude: list[str]) -> tuple[int, str]:
    arguments = [
        "--config-file",
        str(config_file),
        "run",
        f"{stack.gateway_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(SECONDS),
        "--request-timeout",
        "15",
        "--generation-database",
        "none",
        "--no-color",
        *(["--seed", SEED] if SEED else []),
        *(argument for operation in exclude for argument in ("--exclude-operation-id", operation)),
        *EXTRA_ARGUMENTS,
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return await process.wait(), output.decode(errors="replace")


@pytest.mark.timeout(SECONDS * 3 + 120)
@pytest.mark.parametrize("with_session", [False, True], ids=["anonymous", "session"])
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    stack: Stack, tmp_path: Path, with_session: bool
) -> None:
    tenant_id, token = await _signed_up(stack)
    config_file = tmp_path / "schemathesis.toml"
    if with_session:
        config_file.write_text(_schemathesis_config(tenant_id, token))
        # Either would end the session the rest of the run stands on (the fuzzer reuses the
        # IDs it reads, its own session's included); the anonymous run covers both.
        exclude = ["Logout", "RevokeMySession"]
    else:
        config_file.write_text(_schemathesis_config(None, None))
        exclude = []
    status, output = await _run_schemathesis(stack, config_file, exclude)
    print(output)
    assert status == 0, f"schemathesis found failures (exit {status}); its report is above"
