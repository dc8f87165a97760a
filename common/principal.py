"""Who is calling: the principal every rpc carries, signed by a process that holds the key.

The gateway signs the validated tenant user (or its anonymous principal for public routes);
operator commands and workers sign as the system. The token is short-lived, so a leaked
one is worth little, and every service verifies it on every rpc.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from enum import StrEnum

import orjson

from common.errors import UnauthenticatedError
from common.roles import Role
from common.signing import BadSignatureError, Sealer

METADATA_KEY = "x-central-principal"
DEFAULT_TTL_SECONDS = 30.0


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    SYSTEM = "system"


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


def _refused() -> UnauthenticatedError:
    return UnauthenticatedError("missing, forged or expired principal", reason="INVALID_PRINCIPAL")


# Tokens signed or verified recently are remembered, so that the hot path neither signs
# nor checks a MAC per request: a token is reused for a third of its life.
_CACHE_LIMIT = 10_000


class PrincipalSigner:
    def __init__(self, key: bytes, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self._sealer = Sealer(key)
        self._ttl = ttl_seconds
        self._signed: dict[Principal, tuple[str, float]] = {}
        self._verified: dict[str, tuple[Principal, float]] = {}

    def sign(self, principal: Principal, *, now: float | None = None) -> str:
        if now is not None:
            return self._sign(principal, now)
        now = time.time()
        cached = self._signed.get(principal)
        if cached is not None and cached[1] > now:
            return cached[0]
        token = self._sign(principal, now)
        if len(self._signed) >= _CACHE_LIMIT:
            self._signed.clear()
        self._signed[principal] = (token, now + self._ttl / 3)
        return token

    def _sign(self, principal: Principal, now: float) -> str:
        payload = orjson.dumps({**asdict(principal), "exp": now + self._ttl})
        return self._sealer.seal(payload)

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
        try:
            fields = orjson.loads(self._sealer.open(token))
            expires = float(fields.pop("exp"))
            principal = Principal(**{**fields, "kind": PrincipalKind(fields["kind"])})
        except (BadSignatureError, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            raise _refused() from None
        if expires < now:
            raise _refused()
        return principal, expires


_current: ContextVar[Principal] = ContextVar("central_principal")


def current_principal() -> Principal:
    """The verified principal of the rpc being served."""
    try:
        return _current.get()
    except LookupError:
        raise _refused() from None


def set_current_principal(principal: Principal) -> None:
    _current.set(principal)
