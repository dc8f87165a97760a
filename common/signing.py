"""Tamper-evident tokens: `base64url(payload).base64url(HMAC-SHA256(key, payload))`, unpadded.

The one home of the rule that principals (common/principal.py) and list cursors
(common/lists.py) share; each holds its own key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


class BadSignatureError(ValueError):
    """A token this key did not sign, or not in the one spelling it signs."""


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """Unpadded base64url; raises BadSignatureError for anything that is not."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise BadSignatureError("not base64url") from None


class Sealer:
    """Seals under `key`; opens what `key` or one of the `previous` keys sealed (a rotation)."""

    def __init__(self, key: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self._key = key
        self._keys = (key, *previous)

    @staticmethod
    def _mac(key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, payload, hashlib.sha256).digest()

    def seal(self, payload: bytes) -> str:
        return f"{b64encode(payload)}.{b64encode(self._mac(self._key, payload))}"

    def open(self, token: str) -> bytes:
        """The payload `seal` put in `token`; raises BadSignatureError for any other token."""
        payload_text, _, mac_text = token.partition(".")
        payload, mac = b64decode(payload_text), b64decode(mac_text)
        # Only the canonical spelling: base64 leaves spare bits that decoding ignores.
        if b64encode(payload) != payload_text or b64encode(mac) != mac_text:
            raise BadSignatureError("not the canonical spelling")
        if not any(hmac.compare_digest(mac, self._mac(key, payload)) for key in self._keys):
            raise BadSignatureError("signed by another key, or altered")
        return payload
