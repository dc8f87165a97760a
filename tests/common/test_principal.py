"""Principals: signed by their issuer's Ed25519 key for one process, verified under public keys only."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.errors import UnauthenticatedError
from common.keys import Issuer, SigningKey, TrustedKey
from common.principal import GATEWAY, SYSTEM, Principal, PrincipalKind, PrincipalSigner, PrincipalVerifier
from common.signing import b64encode
from tests.support.principals import KEYS, SIGNERS, sign, verifier

AUDIENCE = "auth"
VERIFIER = verifier(AUDIENCE)
USER = Principal(
    PrincipalKind.USER, tenant_id="tenant-1", tenant_user_id="tenantuser-1", role="admin", session_id="s"
)


def payload(principal: Principal, **overrides: Any) -> dict[str, Any]:
    now = round(time.time() * 1000)
    return {**asdict(principal), "aud": AUDIENCE, "iat_ms": now, "exp_ms": now + 30_000, **overrides}


def signed(key: SigningKey, fields: Mapping[str, Any], spelling: bytes | None = None) -> str:
    """A token with a valid signature over `fields`, spelled canonically unless `spelling` is given."""
    body = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS) if spelling is None else spelling
    head = f"{key.key_id}.{b64encode(body)}"
    return f"{head}.{b64encode(key.private_key.sign(head.encode()))}"


def refused(token: str | None, verifier: PrincipalVerifier = VERIFIER) -> bool:
    try:
        verifier.verify(token)
    except UnauthenticatedError:
        return True
    return False


def test_each_issuer_signs_its_own_kinds_and_they_verify() -> None:
    assert VERIFIER.verify(sign(USER, AUDIENCE)) == USER
    assert VERIFIER.verify(
        sign(Principal(PrincipalKind.ANONYMOUS, client_address="1.2.3.4"), AUDIENCE)
    ).kind is (PrincipalKind.ANONYMOUS)
    assert VERIFIER.verify(sign(GATEWAY, AUDIENCE)) == GATEWAY
    assert VERIFIER.verify(sign(SYSTEM, AUDIENCE)) == SYSTEM


def test_an_issuer_refuses_to_sign_a_kind_that_is_not_its_own() -> None:
    with pytest.raises(ValueError, match="does not sign"):
        SIGNERS[Issuer.GATEWAY].sign(SYSTEM, AUDIENCE)
    with pytest.raises(ValueError, match="does not sign"):
        SIGNERS[Issuer.SYSTEM].sign(USER, AUDIENCE)


def test_a_system_principal_signed_with_the_gateways_key_is_refused() -> None:
    # Signed by the gateway's trusted key, properly: the key is not trusted for the system.
    assert refused(signed(KEYS[Issuer.GATEWAY], payload(SYSTEM)))
    assert not refused(signed(KEYS[Issuer.SYSTEM], payload(SYSTEM)))
    # Nor may the system's key vouch for a tenant user.
    assert refused(signed(KEYS[Issuer.SYSTEM], payload(USER)))


def test_a_principal_is_for_the_process_it_was_signed_for() -> None:
    assert refused(sign(USER, "tenants"))
    assert not refused(sign(USER, "tenants"), verifier("tenants"))


def test_signing_reuses_a_fresh_token_per_audience_and_renews_an_aging_one() -> None:
    signer = PrincipalSigner(KEYS[Issuer.GATEWAY], ttl_seconds=0.3)
    first = signer.sign(USER, AUDIENCE)
    assert signer.sign(USER, AUDIENCE) == first
    assert signer.sign(USER, "tenants") != first
    time.sleep(0.11)
    assert signer.sign(USER, AUDIENCE) != first


UNTRUSTED = SigningKey(Issuer.GATEWAY, Ed25519PrivateKey.generate())


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "garbage",
        "a.b",
        "a.b.c",
        PrincipalSigner(UNTRUSTED).sign(USER, AUDIENCE),
        SIGNERS[Issuer.GATEWAY].sign(USER, AUDIENCE, now=time.time() - 31),
    ],
)
def test_missing_forged_and_expired_tokens_are_refused(token: str | None) -> None:
    assert refused(token)


@pytest.mark.parametrize(
    "overrides",
    [
        # An expiry further ahead than any principal lives.
        {"exp_ms": round(time.time() * 1000) + 3_600_000},
        # Issued in the future.
        {"iat_ms": round(time.time() * 1000) + 60_000, "exp_ms": round(time.time() * 1000) + 70_000},
        {"iat_ms": float(round(time.time() * 1000))},
        {"exp_ms": True},
        {"aud": ""},
        {"kind": "root"},
        {"tenant_id": 7},
        {"extra": "x"},
    ],
)
def test_a_payload_out_of_bounds_or_of_the_wrong_shape_is_refused(overrides: dict[str, Any]) -> None:
    assert refused(signed(KEYS[Issuer.GATEWAY], payload(USER, **overrides)))


def test_a_payload_missing_a_field_is_refused() -> None:
    fields = payload(USER)
    del fields["iat_ms"]
    assert refused(signed(KEYS[Issuer.GATEWAY], fields))


def test_only_the_one_spelling_of_a_token_verifies() -> None:
    fields = payload(USER)
    key = KEYS[Issuer.GATEWAY]
    assert not refused(signed(key, fields))
    # The same fields, validly signed, in other spellings of the JSON.
    assert refused(signed(key, fields, orjson.dumps(dict(reversed(fields.items())))))
    assert refused(
        signed(key, fields, orjson.dumps(fields, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
    )
    duplicated = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)[:-1] + b',"aud":"auth"}'
    assert refused(signed(key, fields, duplicated))
    # Base64 with spare bits set: decodes to the same signature, spelled otherwise.
    token = signed(key, fields)
    head, _, signature = token.rpartition(".")
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    respelled = signature[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last ^ 1]
    assert respelled != signature
    assert refused(f"{head}.{respelled}", verifier(AUDIENCE))


def test_a_remembered_token_still_expires() -> None:
    token = SIGNERS[Issuer.GATEWAY].sign(USER, AUDIENCE, now=time.time() - 25)
    assert VERIFIER.verify(token) == USER
    with pytest.raises(UnauthenticatedError):
        VERIFIER.verify(token, now=time.time() + 10)


def test_keys_rotate_without_a_restart() -> None:
    old, new = KEYS[Issuer.GATEWAY], SigningKey(Issuer.GATEWAY, Ed25519PrivateKey.generate())
    trusted: dict[str, TrustedKey] = {old.key_id: old.trusted()}
    rotating = PrincipalVerifier(trusted, AUDIENCE, reload=lambda: dict(trusted), reload_interval=0)
    old_token, new_token = (
        PrincipalSigner(old).sign(USER, AUDIENCE),
        PrincipalSigner(new).sign(USER, AUDIENCE),
    )
    assert rotating.verify(old_token) == USER
    assert refused(new_token, rotating)
    # 1. The new key is trusted beside the old one: both verify, and signers may switch.
    trusted[new.key_id] = new.trusted()
    assert rotating.verify(new_token) == USER
    assert rotating.verify(old_token) == USER
    # 2. The old key is no longer trusted: once the trusted keys are read again (at the next
    # token not in the cache), its tokens are refused, remembered ones too.
    del trusted[old.key_id]
    assert refused(PrincipalSigner(UNTRUSTED).sign(USER, AUDIENCE), rotating)
    assert refused(old_token, rotating)
    assert rotating.verify(new_token) == USER


def test_the_trusted_keys_are_read_again_at_most_once_per_interval() -> None:
    key = KEYS[Issuer.GATEWAY]
    reads: list[float] = []

    def reload() -> dict[str, TrustedKey]:
        reads.append(time.time())
        return {key.key_id: key.trusted()}

    rotating = PrincipalVerifier({}, AUDIENCE, reload=reload, reload_interval=10)
    start = time.time()
    signer = PrincipalSigner(key)
    # Within the interval of its start, an unknown key ID is refused without reading again.
    assert refused(signer.sign(USER, AUDIENCE, now=start), rotating)
    assert reads == []
    later = start + 11
    token = signer.sign(USER, AUDIENCE, now=later)
    assert rotating.verify(token, now=later) == USER
    assert len(reads) == 1
    assert rotating.verify(signer.sign(GATEWAY, AUDIENCE, now=later + 1), now=later + 1) == GATEWAY
    assert len(reads) == 1
