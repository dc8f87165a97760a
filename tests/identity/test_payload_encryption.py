"""Temporal's histories hold only sealed payloads: no email, name or password hash in clear."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import sys
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from common.children import child_environment
from common.temporal.codec import EncryptingCodec, PayloadDecryptionError
from common.temporal_dev import temporal_binary
from tests.support.actors import PASSWORD, fresh_address
from tests.support.stack import Stack


async def test_a_signups_history_holds_no_email_name_or_hash_in_clear(stack: Stack) -> None:
    slug = f"sealed-{secrets.token_hex(4)}"
    email = f"sealed-{secrets.token_hex(4)}@example.com"
    body = {
        "tenantSlug": slug,
        "tenantDisplayName": "Sealed Tenant",
        "email": email,
        "password": PASSWORD,
        "displayName": "Sealed Founder",
    }
    response = await stack.http.post("/signup", json=body, headers={"x-forwarded-for": fresh_address()})
    assert response.status_code == 200, response.text
    # The raw client: no codec, as anyone who reads Temporal's store or API sees it.
    raw = await Client.connect(str(stack.config.temporal_addr))
    history = await raw.get_workflow_handle(f"signup-{slug}").fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    assert b"Sealed Founder" not in stored and b"Sealed Tenant" not in stored
    assert email.encode() not in stored and b"$argon2" not in stored
    assert b"binary/encrypted" in stored
    # Central's own client reads it back, and so does an operator with the key.
    result = await stack.temporal.get_workflow_handle(f"signup-{slug}").result()
    assert result["tenant"]["display_name"] == "Sealed Tenant"
    decoded = await operator_decodes(stack, f"signup-{slug}")
    assert email in decoded and "Sealed Founder" in decoded and "$argon2id$" in decoded


async def operator_decodes(stack: Stack, workflow_id: str) -> str:
    show = await asyncio.create_subprocess_exec(
        temporal_binary(), "workflow", "show", "--workflow-id", workflow_id, "--output", "json",
        "--address", str(stack.config.temporal_addr),
        env=child_environment(), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    shown, _ = await show.communicate()
    assert show.returncode == 0
    decode = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "central"), "temporal", "decode",
        env={**os.environ, "CENTRAL_HOME": str(stack.config.home)},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    decoded, errors = await decode.communicate(shown)
    assert decode.returncode == 0, errors.decode()
    return decoded.decode()


async def test_a_payload_under_another_key_or_altered_does_not_open() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')
    [under_old] = await EncryptingCodec(old).encode([plain])
    # Rotation: the new key seals, the old one still opens.
    assert await EncryptingCodec(new, [old]).decode([under_old]) == [plain]
    with pytest.raises(PayloadDecryptionError):
        await EncryptingCodec(new).decode([under_old])
    altered = Payload()
    altered.CopyFrom(under_old)
    altered.data = under_old.data[:-1] + bytes([under_old.data[-1] ^ 1])
    with pytest.raises(PayloadDecryptionError):
        await EncryptingCodec(old).decode([altered])


async def test_the_codec_rotates_with_the_encryption_keys(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(2))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"ada@example.com"')
    monkeypatch.setenv("CENTRAL_ENCRYPTION_KEY", old)
    [sealed] = await EncryptingCodec.load(stack.config).encode([plain])
    monkeypatch.setenv("CENTRAL_ENCRYPTION_KEY", new)
    with pytest.raises(PayloadDecryptionError):
        await EncryptingCodec.load(stack.config).decode([sealed])
    monkeypatch.setenv("CENTRAL_ENCRYPTION_PREVIOUS_KEYS", old)
    assert await EncryptingCodec.load(stack.config).decode([sealed]) == [plain]
