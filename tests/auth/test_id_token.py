"""The ID token checks, with tokens signed here: what a provider must never get past."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from common.errors import DomainError
from services.auth.oidc import id_token
from services.auth.oidc.provider import ProviderDirectory, ProviderMetadata

ISSUER = "https://id.example"
CLIENT = "central"
NONCE = "n-0123456789"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
KEYS = KeySet.import_key_set({"keys": [KEY.as_dict(private=False)]})


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "s-1", "nonce": NONCE, "iat": now, "exp": now + 300}
    base |= {"email": "ada@sso.example", "email_verified": True}
    return {k: v for k, v in (base | changes).items() if v is not None}


def signed(payload: dict[str, Any], key: Any = KEY, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": "k1"}, payload, key)


def check(token: str) -> id_token.VerifiedIdentity:
    id_token.header(token)
    return id_token.verify(token, KEYS, issuer=ISSUER, client_id=CLIENT, nonce=NONCE)


def reason(error: pytest.ExceptionInfo[DomainError]) -> str | None:
    return error.value.reason


def test_a_good_token_gives_its_identity() -> None:
    identity = check(signed(claims()))
    assert (identity.subject, identity.email, identity.email_verified) == ("s-1", "ada@sso.example", True)


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "another"},
        {"nonce": None},
        {"aud": "someone-else"},
        {"aud": [CLIENT, "other"]},  # several audiences need azp = this client
        {"azp": "other"},
        {"iss": "https://evil.example"},
        {"exp": int(time.time()) - 3600},
        {"iat": int(time.time()) + 3600},
        {"exp": "tomorrow"},
        {"sub": ""},
    ],
)
def test_a_token_with_a_wrong_claim_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as error:
        check(signed(claims(**changes)))
    assert reason(error) == "OIDC_ID_TOKEN_INVALID"


def test_several_audiences_pass_with_azp_naming_this_client() -> None:
    assert check(signed(claims(aud=[CLIENT, "other"], azp=CLIENT))).subject == "s-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(alg: str, payload: dict[str, Any], secret: bytes | None) -> str:
    """A token no library would make: `alg: none`, or HMAC keyed with the provider's public key."""
    signing_input = (
        f"{_b64(json.dumps({'alg': alg, 'kid': 'k1'}).encode())}.{_b64(json.dumps(payload).encode())}"
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_b64(signature)}"


def test_alg_none_an_hmac_over_the_public_key_and_a_foreign_key_are_refused() -> None:
    unsigned = _hand_made("none", claims(), None)
    hmac_forgery = _hand_made("HS256", claims(), KEY.as_pem(private=False))
    foreign = signed(claims(), RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True))
    for token in (unsigned, hmac_forgery, foreign, "not-a-jwt"):
        with pytest.raises(DomainError) as error:
            check(token)
        assert reason(error) == "OIDC_ID_TOKEN_INVALID"


async def test_an_unknown_kid_refetches_the_keys_once_per_cool_down() -> None:
    fetched: list[int] = []
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"}, private=True)

    def jwks(request: httpx.Request) -> httpx.Response:
        fetched.append(1)
        keys = [KEY.as_dict(private=False)] + ([rotated.as_dict(private=False)] if len(fetched) > 1 else [])
        return httpx.Response(200, json={"keys": keys})

    directory = ProviderDirectory(1.0, transport=httpx.MockTransport(jwks))
    metadata = ProviderMetadata(ISSUER, f"{ISSUER}/auth", f"{ISSUER}/token", f"{ISSUER}/jwks")
    assert [k.kid for k in (await directory.keys(metadata, "k1")).keys] == ["k1"]
    assert len(fetched) == 1
    # The provider rotated: a token under k2 refetches, right away since nothing is cached for k2 ...
    directory._keys[ISSUER].fetched_at -= 3600
    keys = await directory.keys(metadata, "k2")
    assert {k.kid for k in keys.keys} == {"k1", "k2"} and len(fetched) == 2
    token = signed(claims(), rotated, {"alg": "RS256", "kid": "k2"})
    assert id_token.verify(token, keys, issuer=ISSUER, client_id=CLIENT, nonce=NONCE).subject == "s-1"
    # ... but a stream of made-up kids does not make Central hammer the provider.
    for kid in ("x1", "x2", "x3"):
        await directory.keys(metadata, kid)
    assert len(fetched) == 2


async def test_an_unreachable_provider_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    directory = ProviderDirectory(1.0, transport=httpx.MockTransport(refuse))
    with pytest.raises(DomainError) as error:
        await directory.metadata(ISSUER)
    assert reason(error) == "OIDC_PROVIDER_UNAVAILABLE"
