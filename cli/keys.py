"""`central keys`: make a key, and the trusted-keys list of the signing keys an operator holds.

    central keys new > system-signing.key
    central keys trusted gateway=gateway-signing.key system=system-signing.key > trusted.keys

Every key is 32 random bytes in base64 (common/keys.py); a signing key's trusted entry is its
issuer and its public half, which is all that services need to verify what it signs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from common.config import ConfigError
from common.keys import Issuer, load_signing_key, new_key_text


async def new() -> int:
    print(new_key_text())
    return 0


async def trusted(pairs: Iterable[str]) -> int:
    """One trusted entry per `ISSUER=FILE` (a private signing key's file)."""
    for pair in pairs:
        name, _, path = pair.partition("=")
        try:
            issuer = Issuer(name)
        except ValueError:
            raise ConfigError(f"{pair!r}: expected ISSUER=FILE, ISSUER one of gateway, system") from None
        key = load_signing_key(issuer, Path("."), {f"{issuer.variable}_FILE": path})
        print(key.trusted().line())
    return 0
