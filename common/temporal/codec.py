"""Workflow payloads encrypted before they reach Temporal: its histories hold no readable email,
name or password hash.

AES-256-GCM; each payload names its key (`encryption-key-id` in its metadata), so a new key can
be brought in while histories under the old one are still read. Payloads that are not
encrypted (histories from before) pass through as they are. Operators read a history with
`temporal workflow show --output json | central temporal decode`.

The keys are derived from the encryption keys (common/crypto.py: CENTRAL_ENCRYPTION_KEY, and
CENTRAL_ENCRYPTION_PREVIOUS_KEYS while rotating), which Temporal never holds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from common.config import Config
from common.crypto import encryption_keys
from common.keys import derive_key

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12


class PayloadDecryptionError(ValueError):
    """A payload under a key this codec does not hold, or altered."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"central-payload-key-id" + key).hexdigest()[:16]


class EncryptingCodec(PayloadCodec):
    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self._current = key_id(current)
        self._keys = {key_id(key): AESGCM(key) for key in (current, *previous)}

    @classmethod
    def load(cls, config: Config) -> EncryptingCodec:
        current, previous = encryption_keys(config.home)
        return cls(
            derive_key(current, "temporal-payload"), [derive_key(key, "temporal-payload") for key in previous]
        )

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE_BYTES)
        kid = self._current.encode()
        sealed = self._keys[self._current].encrypt(nonce, payload.SerializeToString(), kid)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID, b"")
        aead = self._keys.get(kid.decode(errors="replace"))
        if aead is None:
            raise PayloadDecryptionError(f"a payload under key {kid!r}, which this codec does not hold")
        try:
            plain = aead.decrypt(payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:], kid)
        except InvalidTag:
            raise PayloadDecryptionError("a payload that does not open: altered") from None
        return Payload.FromString(plain)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]
