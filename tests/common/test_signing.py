"""One signing rule for principals and cursors; tokens stay byte-for-byte what they were."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict

import orjson
import pytest

from central.tenants.v1 import tenants_pb2
from common.lists import Cursors
from common.principal import Principal, PrincipalKind, PrincipalSigner
from common.signing import BadSignatureError, Sealer

KEY = b"k" * 32


def spelled_out(payload: bytes) -> str:
    """The token format written out by hand: unpadded base64url payload, a dot, its HMAC-SHA256."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(payload)}.{b64(hmac.new(KEY, payload, hashlib.sha256).digest())}"


def test_a_principal_token_is_the_format_spelled_out() -> None:
    principal = Principal(PrincipalKind.USER, tenant_id="t", tenant_user_id="u", role="admin")
    payload = orjson.dumps({**asdict(principal), "exp": 1000.0 + 30})
    assert PrincipalSigner(KEY, ttl_seconds=30).sign(principal, now=1000.0) == spelled_out(payload)


def test_a_cursor_is_the_format_spelled_out() -> None:
    query = tenants_pb2.ListTenantsInput(limit=3)
    payload = json.dumps(
        {
            "t": query.DESCRIPTOR.full_name,
            "i": base64.urlsafe_b64encode(query.SerializeToString(deterministic=True)).rstrip(b"=").decode(),
            "k": "last",
        },
        separators=(",", ":"),
    ).encode()
    assert Cursors(KEY).encode(query, "last") == spelled_out(payload)


def test_a_sealed_payload_opens_only_with_its_key_and_spelling() -> None:
    token = Sealer(KEY).seal(b"payload")
    assert Sealer(KEY).open(token) == b"payload"
    with pytest.raises(BadSignatureError):
        Sealer(b"x" * 32).open(token)
    payload, _, mac = token.partition(".")
    with pytest.raises(BadSignatureError):
        Sealer(KEY).open(f"{payload}=.{mac}")
    with pytest.raises(BadSignatureError):
        Sealer(KEY).open("no-dot")
    with pytest.raises(BadSignatureError):
        Sealer(KEY).open("!!.??")
