"""Every key a Central process holds, read the one way keys are read, and what each is for.

- CENTRAL_SIGNING_KEY: the services' secret (base64 of at least 32 bytes) for what a service
  seals for itself or for the workers (list cursors, workflow inputs); purpose keys derive from it.
- CENTRAL_GATEWAY_SIGNING_KEY, CENTRAL_SYSTEM_SIGNING_KEY: the Ed25519 private keys (base64 of
  the 32-byte seed) that mint principals; the gateway holds the first, the processes that act
  as the system (services calling services, workers, operator commands) the second.
- CENTRAL_TRUSTED_KEYS: the public keys a service verifies principals with, each trusted for
  one issuer: `gateway:BASE64 system:BASE64 ...` (several per issuer while rotating).

Each may instead be in the file VARIABLE_FILE names (a mounted secret). A variable that is set
but empty, unreadable or too short stops the process: it never falls back to a development key.
With neither set, the key is a development one under CENTRAL_HOME, made by the first process
that needs it, owner-only; the trusted keys are then the public halves of the development keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from common.config import ConfigError

_MIN_BYTES = 32
_SEED_BYTES = 32
TRUSTED_KEYS = "CENTRAL_TRUSTED_KEYS"
# A bad key file is never waited for longer than this many reads (another process writing it).
_READ_ATTEMPTS = 50


class Issuer(StrEnum):
    """Who mints principals; each holds its own private key."""

    GATEWAY = "gateway"
    SYSTEM = "system"

    @property
    def variable(self) -> str:
        return _SIGNING_KEY_VARIABLES[self]

    @property
    def development_file(self) -> str:
        return f"{self.value}-signing.key"


_SIGNING_KEY_VARIABLES = {
    Issuer.GATEWAY: "CENTRAL_GATEWAY_SIGNING_KEY",
    Issuer.SYSTEM: "CENTRAL_SYSTEM_SIGNING_KEY",
}


def principal_key_id(public_key: Ed25519PublicKey) -> str:
    """A key's ID: a fingerprint of its public half, so that it can never disagree with the key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(b"central-principal-key" + raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    issuer: Issuer
    private_key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return self.trusted().key_id

    def trusted(self) -> TrustedKey:
        return TrustedKey(self.issuer, self.private_key.public_key())


@dataclass(frozen=True)
class TrustedKey:
    """A public key, and the one issuer whose principals it may vouch for."""

    issuer: Issuer
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return principal_key_id(self.public_key)

    def line(self) -> str:
        """Its entry in CENTRAL_TRUSTED_KEYS."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.issuer.value}:{base64.b64encode(raw).decode()}"


def load_secret(
    home: Path,
    env: Mapping[str, str] | None = None,
    *,
    variable: str = "CENTRAL_SIGNING_KEY",
    development_file: str = "signing.key",
) -> bytes:
    """The key `variable` (or `variable`_FILE) holds; in development, one made under `home`."""
    env = os.environ if env is None else env
    raw = _configured(env, variable)
    if raw is None:
        raw, variable = _development_key(home / development_file), str(home / development_file)
    secret = _decoded(raw, variable)
    if len(secret) < _MIN_BYTES:
        raise ConfigError(f"{variable}: too short, expected at least {_MIN_BYTES} bytes (base64)")
    return secret


def load_secrets(
    home: Path,
    env: Mapping[str, str] | None = None,
    *,
    variable: str = "CENTRAL_SIGNING_KEY",
    development_file: str = "signing.key",
) -> tuple[bytes, tuple[bytes, ...]]:
    """The current key `variable` holds and the previous ones, comma-separated in the variable
    named like it with _PREVIOUS_KEYS (CENTRAL_SIGNING_PREVIOUS_KEYS): what was sealed under
    them still opens during a rotation, while only the current key seals."""
    env = os.environ if env is None else env
    previous_variable = variable.removesuffix("_KEY") + "_PREVIOUS_KEYS"
    previous = tuple(
        load_secret(home, {previous_variable: raw.strip()}, variable=previous_variable)
        for raw in env.get(previous_variable, "").split(",")
        if raw.strip()
    )
    return load_secret(home, env, variable=variable, development_file=development_file), previous


def derive_keys(secrets: tuple[bytes, tuple[bytes, ...]], purpose: str) -> tuple[bytes, tuple[bytes, ...]]:
    """`derive_key` of the current secret and of each previous one."""
    current, previous = secrets
    return derive_key(current, purpose), tuple(derive_key(key, purpose) for key in previous)


def load_signing_key(issuer: Issuer, home: Path, env: Mapping[str, str] | None = None) -> SigningKey:
    """The private key `issuer` signs principals with (CENTRAL_<ISSUER>_SIGNING_KEY[_FILE])."""
    env = os.environ if env is None else env
    return SigningKey(issuer, _private_key(issuer, home, env))


def load_trusted_keys(home: Path, env: Mapping[str, str] | None = None) -> dict[str, TrustedKey]:
    """The public keys principals verify under, by key ID (CENTRAL_TRUSTED_KEYS[_FILE]); in
    development, the public halves of the development signing keys."""
    env = os.environ if env is None else env
    raw = _configured(env, TRUSTED_KEYS)
    if raw is None:
        keys = [TrustedKey(issuer, _private_key(issuer, home, {}).public_key()) for issuer in Issuer]
    else:
        keys = parse_trusted_keys(raw)
    return {key.key_id: key for key in keys}


def parse_trusted_keys(text: str, variable: str = TRUSTED_KEYS) -> list[TrustedKey]:
    """`issuer:BASE64` entries, separated by white space or commas; `#` starts a comment."""
    entries = re.sub(r"#[^\n]*", "", text).replace(",", " ").split()
    if not entries:
        raise ConfigError(f"{variable}: lists no key")
    keys: list[TrustedKey] = []
    for entry in entries:
        issuer_name, _, encoded = entry.partition(":")
        try:
            issuer = Issuer(issuer_name)
        except ValueError:
            allowed = ", ".join(i.value for i in Issuer)
            raise ConfigError(f"{variable}: {entry[:20]!r} names no issuer (expected {allowed})") from None
        raw = _decoded(encoded, variable)
        if len(raw) != _SEED_BYTES:
            raise ConfigError(f"{variable}: an Ed25519 public key is {_SEED_BYTES} bytes (base64)")
        keys.append(TrustedKey(issuer, Ed25519PublicKey.from_public_bytes(raw)))
    issuers: dict[str, Issuer] = {}
    for key in keys:
        if issuers.setdefault(key.key_id, key.issuer) is not key.issuer:
            raise ConfigError(f"{variable}: key {key.key_id} is trusted for two issuers")
    return keys


def check_keys(home: Path, env: Mapping[str, str] | None = None) -> None:
    """Read every key of this module once, making the development ones that are missing:
    `central up` does, so that its children neither race to make them nor start with a bad one."""
    load_secret(home, env)
    for issuer in Issuer:
        load_signing_key(issuer, home, env)
    load_trusted_keys(home, env)


def new_key_text() -> str:
    """A new random key, as every key variable and key file holds one (also an Ed25519 seed)."""
    return base64.b64encode(secrets.token_bytes(_MIN_BYTES)).decode()


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so that a cursor can never pass for another signed value."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def _private_key(issuer: Issuer, home: Path, env: Mapping[str, str]) -> Ed25519PrivateKey:
    variable = issuer.variable
    raw = _configured(env, variable)
    if raw is None:
        path = home / issuer.development_file
        raw, variable = _development_key(path), str(path)
    seed = _decoded(raw, variable)
    if len(seed) != _SEED_BYTES:
        raise ConfigError(
            f"{variable}: an Ed25519 key is a {_SEED_BYTES}-byte seed (base64), not {len(seed)}"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _configured(env: Mapping[str, str], variable: str) -> str | None:
    """The key text `variable` or `variable`_FILE gives; None when neither is set at all."""
    file_variable = f"{variable}_FILE"
    if variable in env and file_variable in env:
        raise ConfigError(f"{variable} and {file_variable} are both set: set one")
    if variable in env:
        if not env[variable].strip():
            raise ConfigError(f"{variable} is set but empty: give the key, or unset it for development")
        return env[variable]
    if file_variable in env:
        if not env[file_variable].strip():
            raise ConfigError(f"{file_variable} is set but empty: name the key's file")
        try:
            text = Path(env[file_variable]).read_text()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not text"
            raise ConfigError(f"{file_variable}: cannot read {env[file_variable]}: {reason}") from None
        if not text.strip():
            raise ConfigError(f"{file_variable}: {env[file_variable]} is empty")
        return text
    return None


def _decoded(text: str, variable: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise ConfigError(f"{variable}: expected base64") from None


def _development_key(path: Path) -> str:
    """The key in `path`, made there first if there is none; refused unless only its owner reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(new_key_text())
    _check_owner_only(path)
    for _ in range(_READ_ATTEMPTS):
        content = path.read_text()
        if content.strip():
            return content
        # Another process created the file and has not written it yet.
        os.sched_yield()
    raise ConfigError(f"{path} is empty: delete it to have a new key made")


def _check_owner_only(path: Path) -> None:
    # Refused rather than repaired: whoever could read it may have a copy, which only the
    # operator can judge (chmod 600 it if nobody else uses this machine, else delete it).
    info = path.stat()
    if info.st_uid != os.getuid():
        raise ConfigError(f"{path}: a key file must belong to the user who runs Central")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"{path}: readable by others (mode {stat.S_IMODE(info.st_mode):o}); "
            "if nobody else could have read it, `chmod 600` it, else delete it to have a new key made"
        )
