"""Validated sessions kept in memory, trusted only while the gateway follows every session change.

Keyed by the SHA-256 of the token (the token itself is never kept). An entry answers until the
session's absolute expiry or its idle deadline, whichever comes first, and until a change names
its session, user or tenant. Fail closed: while the cache is not trusted (no live, caught-up
stream of changes) it answers nothing and keeps nothing, and it starts empty when trusted again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock
from common.fail_closed import FailClosedCache


@dataclass(slots=True)
class CachedSession:
    session_id: str
    tenant_id: str
    tenant_user_id: str
    role: str
    expires_at: datetime
    idle_timeout: timedelta
    last_used_at: datetime

    def alive_at(self, now: datetime) -> bool:
        return now < self.expires_at and now < self.last_used_at + self.idle_timeout


def token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class SessionCache(FailClosedCache[bytes, CachedSession]):
    def __init__(self, clock: Clock, max_entries: int) -> None:
        super().__init__(max_entries)
        self.clock = clock

    def _answerable(self, entry: CachedSession) -> bool:
        """Alive now; answering it is a use of the session."""
        now = self.clock.now()
        if not entry.alive_at(now):
            return False
        entry.last_used_at = now
        return True

    def forget_sessions(self, *, session_id: str = "", tenant_user_id: str = "", tenant_id: str = "") -> None:
        """Drop every entry of the session, user or tenant named (before answering, or as told)."""
        self.forget_where(
            lambda entry: bool(
                (session_id and entry.session_id == session_id)
                or (tenant_user_id and entry.tenant_user_id == tenant_user_id)
                or (tenant_id and entry.tenant_id == tenant_id)
            )
        )
