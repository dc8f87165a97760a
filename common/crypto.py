"""Values encrypted at rest: AES-256-GCM under the key CENTRAL_ENCRYPTION_KEY (or _FILE) holds.

In development the key is made under CENTRAL_HOME (encryption.key), like the signing key.
Each value is stored with the ID of its key, so that a new key can be brought in while
values under the old one are still read.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.keys import load_secrets

_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A value under an unknown key, or altered."""


class SecretBox:
    def __init__(self, current: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self._current_id = key_id(current)
        self._keys = {key_id(key): AESGCM(key[:32]) for key in (current, *previous)}

    @classmethod
    def load(cls, home: Path, env: Mapping[str, str] | None = None) -> SecretBox:
        """The current key, and CENTRAL_ENCRYPTION_PREVIOUS_KEYS (comma-separated base64): values
        sealed under an earlier key still open while a new key seals everything new."""
        return cls(*encryption_keys(home, env))

    def is_current(self, stored: Mapping[str, str]) -> bool:
        """Sealed under the current key (else worth sealing again)."""
        return stored.get("kid") == self._current_id

    def encrypt(self, plaintext: str, context: str) -> dict[str, str]:
        """`plaintext` sealed; `context` (what the value is, where) must be the same to open it."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return {"kid": self._current_id, "ciphertext": base64.b64encode(nonce + sealed).decode()}

    def decrypt(self, stored: Mapping[str, str], context: str) -> str:
        aead = self._keys.get(stored.get("kid", ""))
        if aead is None:
            raise DecryptionError("the value is under an unknown key")
        try:
            raw = base64.b64decode(stored["ciphertext"])
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        except (KeyError, ValueError, InvalidTag):
            raise DecryptionError("the value does not open") from None


def encryption_keys(home: Path, env: Mapping[str, str] | None = None) -> tuple[bytes, tuple[bytes, ...]]:
    """The current encryption key and the previous ones (SecretBox, Temporal's payload codec)."""
    return load_secrets(home, env, variable="CENTRAL_ENCRYPTION_KEY", development_file="encryption.key")


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"central-encryption-key-id" + key).hexdigest()[:16]
