"""The secret only Central's processes hold, and the purpose keys derived from it.

In containers it comes from CENTRAL_SIGNING_KEY (base64 of at least 32 bytes), or from
the file CENTRAL_SIGNING_KEY_FILE names (a mounted secret); in development the first
process to need it writes one to CENTRAL_HOME/signing.key. Every replica must share it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from common.config import ConfigError

_MIN_BYTES = 32


def load_secret(
    home: Path,
    env: Mapping[str, str] | None = None,
    *,
    variable: str = "CENTRAL_SIGNING_KEY",
    development_file: str = "signing.key",
) -> bytes:
    """The key `variable` (or `variable`_FILE) holds; in development, one made under `home`."""
    env = os.environ if env is None else env
    raw = env.get(variable)
    if not raw and env.get(f"{variable}_FILE"):
        try:
            raw = Path(env[f"{variable}_FILE"]).read_text().strip()
        except OSError as error:
            raise ConfigError(f"{variable}_FILE: cannot read it: {error.strerror}") from None
    if raw:
        try:
            secret = base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise ConfigError(f"{variable}: expected base64") from None
        if len(secret) < _MIN_BYTES:
            raise ConfigError(f"{variable}: expected at least {_MIN_BYTES} bytes")
        return secret
    return _development_secret(home / development_file)


def _development_secret(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(secrets.token_bytes(_MIN_BYTES)))
    for _ in range(50):
        content = path.read_bytes()
        if content:
            return base64.b64decode(content)
        # Another process created the file and has not written it yet.
        os.sched_yield()
    raise ConfigError(f"{path} is empty: delete it to have a new key made")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so that a cursor can never pass for another signed value."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
