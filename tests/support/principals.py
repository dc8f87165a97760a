"""Principal keys for unit tests: one made-up key per issuer, and a signer or verifier of them."""

from __future__ import annotations

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.keys import Issuer, SigningKey
from common.principal import MAY_SIGN, Principal, PrincipalSigner, PrincipalVerifier
from common.signing import b64decode, b64encode

KEYS = {issuer: SigningKey(issuer, Ed25519PrivateKey.generate()) for issuer in Issuer}
SIGNERS = {issuer: PrincipalSigner(key) for issuer, key in KEYS.items()}


def verifier(audience: str) -> PrincipalVerifier:
    """Trusts each issuer's key, for principals sent to `audience`."""
    return PrincipalVerifier({key.key_id: key.trusted() for key in KEYS.values()}, audience)


def sign(principal: Principal, audience: str) -> str:
    """`principal` signed by the issuer whose key may sign its kind."""
    issuer = next(issuer for issuer, kinds in MAY_SIGN.items() if principal.kind in kinds)
    return SIGNERS[issuer].sign(principal, audience)


def resigned(key: SigningKey, token: str, **changes: object) -> str:
    """`token`'s payload with `changes`, validly signed by `key` (whether or not it may sign it)."""
    _, payload_text, _ = token.split(".")
    fields = {**orjson.loads(b64decode(payload_text)), **changes}
    head = f"{key.key_id}.{b64encode(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS))}"
    return f"{head}.{b64encode(key.private_key.sign(head.encode()))}"
