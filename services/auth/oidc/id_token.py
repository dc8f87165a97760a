"""Validating an ID token (OpenID Connect Core 1.0, section 3.1.3.7) with joserfc."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.auth import errors

# Asymmetric algorithms only: never `none`, never an HMAC keyed with a public key.
ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str


def header(token: str) -> dict[str, Any]:
    """The unverified protected header, to pick the key; refuses a disallowed algorithm at once."""
    try:
        headers = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError):
        raise invalid("the ID token is not a compact JWS") from None
    if headers.get("alg") not in ALLOWED_ALGORITHMS:
        raise invalid(f"the ID token's algorithm {headers.get('alg')!r} is not allowed")
    return dict(headers)


def verify(
    token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str, now: float | None = None
) -> VerifiedIdentity:
    try:
        decoded = jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS))
    except (JoseError, ValueError):
        raise invalid("the ID token's signature does not verify") from None
    claims = decoded.claims
    now = time.time() if now is None else now
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    checks = (
        (claims.get("iss") == issuer, "iss"),
        (client_id in audiences, "aud"),
        # With several audiences, `azp` must be this client (Core 3.1.3.7, items 4 and 5).
        (len(audiences) == 1 or claims.get("azp") == client_id, "azp"),
        ("azp" not in claims or claims.get("azp") == client_id, "azp"),
        (_number(claims.get("exp")) > now - CLOCK_SKEW_SECONDS, "exp"),
        (_number(claims.get("iat")) < now + CLOCK_SKEW_SECONDS, "iat"),
        (isinstance(claims.get("nonce"), str) and claims.get("nonce") == nonce, "nonce"),
        (isinstance(claims.get("sub"), str) and bool(claims.get("sub")), "sub"),
    )
    for ok, claim in checks:
        if not ok:
            raise invalid(f"the ID token's `{claim}` is not valid")
    return VerifiedIdentity(
        issuer=issuer,
        subject=claims["sub"],
        email=str(claims.get("email") or ""),
        email_verified=claims.get("email_verified") is True,
        name=str(claims.get("name") or ""),
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def invalid(message: str) -> Exception:
    return errors.sso_refused("OIDC_ID_TOKEN_INVALID", message)
