"""`python -m bench.keys`: what one key per issuer and encrypted, signed workflows cost.

Printed in µs per operation and as ratios within this one run:
- the principal on the hot path (signed by the gateway, verified by a service, per rpc):
  the old HMAC scheme (a minimal copy, kept here only to compare), beside Ed25519 when the
  signer's and the verifier's caches hold the token (what nearly every request does: a token is
  reused for a third of its life) and when they do not (a new principal, or a token renewed);
- what encrypted payloads and signed workflow inputs add to a signup (issue 15, item 1):
  one payload of a signup's input sealed and opened, the input's signature made and checked,
  beside the signup's own cost, one argon2id hash of the password.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import asdict, replace

import orjson
import temporalio.converter
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.keys import Issuer, SigningKey
from common.principal import Principal, PrincipalKind, PrincipalSigner, PrincipalVerifier
from common.signing import b64decode, b64encode
from common.temporal.codec import EncryptingCodec
from common.temporal.signatures import InputSignatures, encoded
from services.auth.passwords import OWASP_HASHER
from services.identity.workflows.signup import SignupWorkflowInput

USER = Principal(
    PrincipalKind.USER,
    tenant_id="tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV",
    tenant_user_id="tenantuser-01ARZ3NDEKTSV4RRFFQ69G5FAW",
    role="admin",
    session_id="session-01ARZ3NDEKTSV4RRFFQ69G5FAX",
    client_address="203.0.113.7",
    user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
)
AUDIENCE = "tenants"
# A signup's history seals and opens about this many payloads: the workflow's input and result,
# and each of its two steps' input and output.
PAYLOADS_PER_SIGNUP = 6


def per_call_us(
    operations: dict[str, Callable[[], object]], rounds: int = 9, seconds: float = 0.1
) -> list[tuple[str, float]]:
    """µs per call of each operation: the best of `rounds` rounds of `seconds` each (at least 3
    calls), the operations taking turns round by round, so that other work on the machine
    weighs on each alike and inflates the figures as little as it can."""
    best = dict.fromkeys(operations, float("inf"))
    for operation in operations.values():
        operation()
    for _ in range(rounds):
        for name, operation in operations.items():
            calls, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds or calls < 3:
                operation()
                calls += 1
            best[name] = min(best[name], elapsed / calls * 1e6)
    return list(best.items())


class HmacPrincipals:
    """The scheme before issue 15, uncached: an HMAC-SHA256 over the principal's JSON, one shared key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, principal: Principal, now: float) -> str:
        payload = orjson.dumps({**asdict(principal), "exp": now + 30})
        return f"{b64encode(payload)}.{b64encode(hmac.new(self._key, payload, hashlib.sha256).digest())}"

    def verify(self, token: str, now: float) -> Principal:
        payload_text, _, mac_text = token.partition(".")
        payload, mac = b64decode(payload_text), b64decode(mac_text)
        if b64encode(payload) != payload_text or b64encode(mac) != mac_text:
            raise ValueError("not canonical")
        if not hmac.compare_digest(mac, hmac.new(self._key, payload, hashlib.sha256).digest()):
            raise ValueError("forged")
        fields = orjson.loads(payload)
        if float(fields.pop("exp")) < now:
            raise ValueError("expired")
        return Principal(**{**fields, "kind": PrincipalKind(fields["kind"])})


def principal_rows() -> list[tuple[str, float]]:
    old = HmacPrincipals(os.urandom(32))
    key = SigningKey(Issuer.GATEWAY, Ed25519PrivateKey.generate())
    signer = PrincipalSigner(key)
    verifier = PrincipalVerifier({key.key_id: key.trusted()}, AUDIENCE)
    sessions = itertools.count()

    def old_round() -> None:
        now = time.time()
        old.verify(old.sign(USER, now), now)

    def ed25519_miss() -> None:
        # A principal of its own each time (another session): a token neither cache has seen.
        verifier.verify(signer.sign(replace(USER, session_id=f"session-{next(sessions)}"), AUDIENCE))

    def ed25519_hit() -> None:
        verifier.verify(signer.sign(USER, AUDIENCE))

    return per_call_us(
        {
            "principal sign+verify: HMAC, before (no cache)": old_round,
            "principal sign+verify: Ed25519, cache hit": ed25519_hit,
            "principal sign+verify: Ed25519, cache miss": ed25519_miss,
        }
    )


def signup_rows() -> list[tuple[str, float]]:
    workflow_input = SignupWorkflowInput(
        tenant_slug="acme",
        tenant_display_name="Acme Inc.",
        email="ann@example.com",
        display_name="Ann Example",
        password_hash=OWASP_HASHER.hash("correct horse battery staple"),
    )
    converter = temporalio.converter.default().payload_converter
    [payload] = converter.to_payloads([workflow_input])
    codec = EncryptingCodec(os.urandom(32))
    signatures = InputSignatures(os.urandom(32))
    workflow_id = "signup-acme"
    loop = asyncio.new_event_loop()

    def seal_and_open() -> None:
        loop.run_until_complete(codec.decode(loop.run_until_complete(codec.encode([payload]))))

    def sign_and_check() -> None:
        header = signatures.header("SignupWorkflow", f"workflow:{workflow_id}", [workflow_input])
        args = encoded([workflow_input], converter)
        assert signatures.verify("SignupWorkflow", workflow_id, args, header.data)

    rows = per_call_us(
        {
            "signup: argon2id hash of the password (yardstick)": lambda: OWASP_HASHER.hash("pw"),
            "signup: one payload sealed + opened (AES-GCM)": seal_and_open,
            "signup: input signature made + checked (HMAC)": sign_and_check,
        }
    )
    loop.close()
    codec_us = rows[1][1]
    return [
        *rows[:2],
        (f"signup: x{PAYLOADS_PER_SIGNUP} payloads of its history", codec_us * PAYLOADS_PER_SIGNUP),
        rows[2],
    ]


def print_table(title: str, rows: list[tuple[str, float]]) -> None:
    baseline = rows[0][1]
    print(f"{title:<56} {'µs/op':>10} {'ratio':>10}")
    for name, micros in rows:
        print(f"{name:<56} {micros:>10.2f} {micros / baseline:>9.3f}x")
    print()


def main() -> None:
    print_table("hot path (ratio to the HMAC scheme before)", principal_rows())
    print_table("signup (ratio to one argon2id hash)", signup_rows())


if __name__ == "__main__":
    main()
