"""Secrets at rest: sealed under the current key, opened under any key still held, bound to their place."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from common.config import ConfigError
from common.crypto import DecryptionError, SecretBox

OLD, NEW = os.urandom(32), os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_a_value_opens_only_in_its_own_context_and_unaltered() -> None:
    box = SecretBox(NEW)
    sealed = box.encrypt("s3cret", "connector:1")
    assert "s3cret" not in str(sealed) and box.is_current(sealed)
    assert box.decrypt(sealed, "connector:1") == "s3cret"
    with pytest.raises(DecryptionError):
        box.decrypt(sealed, "connector:2")
    tampered = dict(sealed, ciphertext=base64.b64encode(b"x" * 40).decode())
    with pytest.raises(DecryptionError):
        box.decrypt(tampered, "connector:1")


def test_after_a_rotation_old_values_still_open_and_new_ones_use_the_new_key(tmp_path: Path) -> None:
    sealed_before = SecretBox(OLD).encrypt("s3cret", "c")
    rotated = SecretBox.load(
        tmp_path, {"CENTRAL_ENCRYPTION_KEY": b64(NEW), "CENTRAL_ENCRYPTION_PREVIOUS_KEYS": b64(OLD)}
    )
    assert rotated.decrypt(sealed_before, "c") == "s3cret"
    assert not rotated.is_current(sealed_before)
    assert rotated.is_current(rotated.encrypt("s3cret", "c"))
    # Without the old key, the old value does not open.
    with pytest.raises(DecryptionError):
        SecretBox.load(tmp_path, {"CENTRAL_ENCRYPTION_KEY": b64(NEW)}).decrypt(sealed_before, "c")


def test_development_makes_a_key_under_home_once(tmp_path: Path) -> None:
    first = SecretBox.load(tmp_path, {}).encrypt("s3cret", "c")
    assert (tmp_path / "encryption.key").exists()
    assert SecretBox.load(tmp_path, {}).decrypt(first, "c") == "s3cret"


def test_a_short_key_stops_the_process(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CENTRAL_ENCRYPTION_KEY"):
        SecretBox.load(tmp_path, {"CENTRAL_ENCRYPTION_KEY": b64(b"short")})
