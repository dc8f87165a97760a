"""The token formats, spelled out by hand: cursors (HMAC, a service's own) and principals (Ed25519)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central.tenants.v1 import tenants_pb2
from common.keys import Issuer, SigningKey
from common.lists import Cursors
from common.principal import Principal, PrincipalKind, PrincipalSigner
from common.signing import BadSignatureError, Sealer

KEY = b"k" * 32


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def spelled_out(payload: bytes) -> str:
    """The sealed format written out by hand: unpadded base64url payload, a dot, its HMAC-SHA256."""
    return f"{b64(payload)}.{b64(hmac.new(KEY, payload, hashlib.sha256).digest())}"


def test_a_principal_token_is_the_format_spelled_out() -> None:
    private = Ed25519PrivateKey.from_private_bytes(b"s" * 32)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(b"central-principal-key" + public).hexdigest()[:16]
    principal = Principal(PrincipalKind.USER, tenant_id="t", tenant_user_id="u", role="admin")
    fields = {**asdict(principal), "aud": "auth", "iat_ms": 1_000_000, "exp_ms": 1_030_000}
    payload = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    head = f"{key_id}.{b64(payload)}"
    token = PrincipalSigner(SigningKey(Issuer.GATEWAY, private), ttl_seconds=30).sign(
        principal, "auth", now=1000.0
    )
    assert token == f"{head}.{b64(private.sign(head.encode()))}"


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


def test_during_a_rotation_the_previous_key_still_opens_and_only_the_new_one_seals() -> None:
    old, new = b"o" * 32, b"n" * 32
    before = Sealer(old).seal(b"payload")
    rotating = Sealer(new, (old,))
    assert rotating.open(before) == b"payload"
    assert rotating.seal(b"payload") == Sealer(new).seal(b"payload")
    with pytest.raises(BadSignatureError):
        Sealer(new).open(before)


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
