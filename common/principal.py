"""Who is calling: the principal every rpc carries, signed by its issuer for one target process.

The gateway signs the validated tenant user, its anonymous principal for public routes, and
itself for the few system rpcs that exist for it (common/grpc/access.py); operator commands,
services and workers sign as the system, with another key. Each issuer signs with its own
Ed25519 key (common/keys.py); a service holds only public keys, each trusted for one issuer,
so that no service, and not the gateway, can mint a system principal without the system key.

A token is `KEY_ID.base64url(payload).base64url(Ed25519(KEY_ID "." base64url(payload)))`,
unpadded; the payload is the principal with `aud` (the process it is for), `iat_ms` and
`exp_ms` (milliseconds since the epoch), as JSON with sorted keys and no spaces. Only that
one spelling verifies. A token is short-lived, so a leaked one is worth little; an expiry too
far ahead of its issue time, or an issue time in the future, is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields
from enum import StrEnum

import orjson
from cryptography.exceptions import InvalidSignature

from common.config import ConfigError
from common.errors import UnauthenticatedError
from common.keys import Issuer, SigningKey, TrustedKey
from common.logs import get_logger
from common.roles import Role
from common.signing import BadSignatureError, b64decode, b64encode

logger = get_logger("principal")
METADATA_KEY = "x-central-principal"
DEFAULT_TTL_SECONDS = 30.0
# The longest life a verifier accepts, and how far its clock may lag the signer's.
MAX_LIFETIME_SECONDS = 60.0
CLOCK_SKEW_SECONDS = 5.0


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    SYSTEM = "system"
    # The gateway itself, for the system rpcs that serve it (session changes and use).
    GATEWAY = "gateway"


# What each issuer's key may vouch for: a SYSTEM principal only ever under the system's key.
MAY_SIGN: Mapping[Issuer, frozenset[PrincipalKind]] = {
    Issuer.GATEWAY: frozenset({PrincipalKind.ANONYMOUS, PrincipalKind.USER, PrincipalKind.GATEWAY}),
    Issuer.SYSTEM: frozenset({PrincipalKind.SYSTEM}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    tenant_id: str = ""
    tenant_user_id: str = ""
    role: str = ""
    session_id: str = ""
    # Where the request came from, for throttling and the session list.
    client_address: str = ""
    user_agent: str = ""

    @property
    def is_admin(self) -> bool:
        return self.kind is PrincipalKind.USER and self.role == Role.ADMIN


SYSTEM = Principal(PrincipalKind.SYSTEM)
GATEWAY = Principal(PrincipalKind.GATEWAY)

_TEXT_FIELDS = tuple(f.name for f in fields(Principal) if f.name != "kind")
_PAYLOAD_FIELDS = frozenset({"kind", *_TEXT_FIELDS, "aud", "iat_ms", "exp_ms"})


def _refused() -> UnauthenticatedError:
    return UnauthenticatedError("missing, forged or expired principal", reason="INVALID_PRINCIPAL")


def _encoded(payload: Mapping[str, object]) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


# Tokens signed or verified recently are remembered, so that the hot path neither signs nor
# verifies a signature per request: a token is reused for a third of its life.
_CACHE_LIMIT = 10_000


class PrincipalSigner:
    """Signs principals with one issuer's key, each for the process it is sent to."""

    def __init__(self, key: SigningKey, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        if ttl_seconds > MAX_LIFETIME_SECONDS:
            raise ValueError(f"a principal lives at most {MAX_LIFETIME_SECONDS:.0f} s")
        self._key = key
        self._key_id = key.key_id
        self._may_sign = MAY_SIGN[key.issuer]
        self._ttl_ms = round(ttl_seconds * 1000)
        self._signed: dict[tuple[Principal, str], tuple[str, float]] = {}

    @property
    def issuer(self) -> Issuer:
        return self._key.issuer

    def to(self, audience: str) -> AudienceSigner:
        """This signer, for calls to the process `audience` (a name in common/processes.py)."""
        return AudienceSigner(self, audience)

    def sign(self, principal: Principal, audience: str, *, now: float | None = None) -> str:
        if now is not None:
            return self._sign(principal, audience, now)
        now = time.time()
        cached = self._signed.get((principal, audience))
        if cached is not None and cached[1] > now:
            return cached[0]
        token = self._sign(principal, audience, now)
        if len(self._signed) >= _CACHE_LIMIT:
            self._signed.clear()
        self._signed[(principal, audience)] = (token, now + self._ttl_ms / 3000)
        return token

    def _sign(self, principal: Principal, audience: str, now: float) -> str:
        if principal.kind not in self._may_sign:
            raise ValueError(f"the {self._key.issuer} key does not sign {principal.kind} principals")
        issued = round(now * 1000)
        payload = _encoded(
            {**asdict(principal), "aud": audience, "iat_ms": issued, "exp_ms": issued + self._ttl_ms}
        )
        signed = f"{self._key_id}.{b64encode(payload)}"
        return f"{signed}.{b64encode(self._key.private_key.sign(signed.encode()))}"


@dataclass(frozen=True, slots=True)
class AudienceSigner:
    """A signer bound to one target process: what a channel to that process signs with."""

    signer: PrincipalSigner
    audience: str

    def sign(self, principal: Principal, *, now: float | None = None) -> str:
        return self.signer.sign(principal, self.audience, now=now)


class PrincipalVerifier:
    """Verifies the principals sent to one process (`audience`) under the trusted public keys.

    `reload`, when given, reads the trusted keys again, at most once per `reload_interval`
    seconds, when a token is not in the cache: a key added to the trusted list is trusted, and a
    key taken out of it is not, without a restart (tokens it signed are forgotten with it).
    """

    def __init__(
        self,
        trusted: Mapping[str, TrustedKey],
        audience: str,
        *,
        reload: Callable[[], Mapping[str, TrustedKey]] | None = None,
        reload_interval: float = 10.0,
    ) -> None:
        self._trusted = dict(trusted)
        self.audience = audience
        self._reload = reload
        self._reload_interval = reload_interval
        self._reloaded_at = time.time()
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str | None, *, now: float | None = None) -> Principal:
        if not token:
            raise _refused()
        moment = time.time() if now is None else now
        cached = self._verified.get(token)
        if cached is not None and cached[1] >= moment:
            return cached[0]
        principal, expires = self._verify(token, moment)
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str, now: float) -> tuple[Principal, float]:
        key_id, _, rest = token.partition(".")
        payload_text, _, signature_text = rest.partition(".")
        trusted = self._key(key_id, now)
        if trusted is None:
            raise _refused()
        try:
            payload, signature = b64decode(payload_text), b64decode(signature_text)
            # Only the canonical spelling: base64 leaves spare bits that decoding ignores.
            if b64encode(payload) != payload_text or b64encode(signature) != signature_text:
                raise _refused()
            trusted.public_key.verify(signature, f"{key_id}.{payload_text}".encode())
            fields = orjson.loads(payload)
        except (BadSignatureError, InvalidSignature, orjson.JSONDecodeError):
            raise _refused() from None
        return self._checked(fields, payload, trusted, now)

    def _checked(
        self, fields: object, payload: bytes, trusted: TrustedKey, now: float
    ) -> tuple[Principal, float]:
        if not isinstance(fields, dict) or fields.keys() != _PAYLOAD_FIELDS or _encoded(fields) != payload:
            raise _refused()
        issued, expires = fields.pop("iat_ms"), fields.pop("exp_ms")
        if fields.pop("aud") != self.audience or not all(isinstance(fields[f], str) for f in _TEXT_FIELDS):
            raise _refused()
        if type(issued) is not int or type(expires) is not int:
            raise _refused()
        now_ms = now * 1000
        if (
            expires < now_ms
            or issued > now_ms + CLOCK_SKEW_SECONDS * 1000
            or not 0 < expires - issued <= MAX_LIFETIME_SECONDS * 1000
        ):
            raise _refused()
        try:
            kind = PrincipalKind(fields["kind"])
        except ValueError:
            raise _refused() from None
        if kind not in MAY_SIGN[trusted.issuer]:
            raise _refused()
        return Principal(**{**fields, "kind": kind}), expires / 1000

    def _key(self, key_id: str, now: float) -> TrustedKey | None:
        if self._reload is not None and now - self._reloaded_at >= self._reload_interval:
            self._reloaded_at = now
            self._reload_keys(self._reload)
        return self._trusted.get(key_id)

    def _reload_keys(self, reload: Callable[[], Mapping[str, TrustedKey]]) -> None:
        try:
            trusted = dict(reload())
        except ConfigError as error:
            logger.error("trusted keys not read again, the ones read before stay: %s", error)
            return
        if self._trusted.keys() - trusted.keys():
            # A key no longer trusted vouches for nothing, remembered or not.
            self._verified.clear()
        self._trusted = trusted


_current: ContextVar[Principal] = ContextVar("central_principal")


def current_principal() -> Principal:
    """The verified principal of the rpc being served."""
    try:
        return _current.get()
    except LookupError:
        raise _refused() from None


def set_current_principal(principal: Principal) -> None:
    _current.set(principal)


@contextmanager
def acting_as(principal: Principal) -> Iterator[None]:
    """`principal` is the current principal inside the block only (the gateway's own access checks)."""
    token = _current.set(principal)
    try:
        yield
    finally:
        _current.reset(token)
