import time

import pytest

from common.errors import UnauthenticatedError
from common.principal import SYSTEM, Principal, PrincipalKind, PrincipalSigner

SIGNER = PrincipalSigner(b"k" * 32, ttl_seconds=30)
USER = Principal(
    PrincipalKind.USER, tenant_id="tenant-1", tenant_user_id="tenantuser-1", role="admin", session_id="s"
)


def test_a_signed_principal_verifies_to_itself() -> None:
    assert SIGNER.verify(SIGNER.sign(USER)) == USER
    assert SIGNER.verify(SIGNER.sign(SYSTEM)) == SYSTEM


def test_signing_reuses_a_fresh_token_and_renews_an_aging_one() -> None:
    signer = PrincipalSigner(b"k" * 32, ttl_seconds=0.3)
    first = signer.sign(USER)
    assert signer.sign(USER) == first
    time.sleep(0.11)
    assert signer.sign(USER) != first


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "garbage",
        "a.b",
        PrincipalSigner(b"x" * 32).sign(USER),
        SIGNER.sign(USER, now=time.time() - 31),
    ],
)
def test_missing_forged_and_expired_tokens_are_refused(token: str | None) -> None:
    with pytest.raises(UnauthenticatedError):
        SIGNER.verify(token)


def test_a_remembered_token_still_expires() -> None:
    token = SIGNER.sign(USER, now=time.time() - 25)
    assert SIGNER.verify(token) == USER
    with pytest.raises(UnauthenticatedError):
        SIGNER.verify(token, now=time.time() + 10)


def test_a_tampered_payload_is_refused() -> None:
    _, _, mac = SIGNER.sign(USER).partition(".")
    other_payload, _, _ = SIGNER.sign(SYSTEM).partition(".")
    with pytest.raises(UnauthenticatedError):
        SIGNER.verify(f"{other_payload}.{mac}")
