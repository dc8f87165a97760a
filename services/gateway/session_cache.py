"""Validated sessions kept in memory, trusted only while the gateway follows every session change.

Keyed by the SHA-256 of the token (the token itself is never kept). An entry answers until the
session's absolute expiry or its idle deadline, whichever comes first, and until a change names
its session, user or tenant. Fail closed: while the cache is not trusted (no live, caught-up
stream of changes) it answers nothing and keeps nothing, and it starts empty when trusted again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock


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


class SessionCache:
    def __init__(self, clock: Clock, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, CachedSession] = OrderedDict()
        self._trusted = False
        # Moves on every change and every change of trust: a validation that started before
        # one may have read what the change undid, so its answer is not kept (see `put`).
        self.generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def trusted(self) -> bool:
        return self._trusted

    def __len__(self) -> int:
        return len(self._entries)

    def trust(self) -> None:
        """The stream is caught up: from now on every change reaches `forget`. Starts empty."""
        self._entries.clear()
        self._trusted = True
        self.generation += 1

    def distrust(self) -> None:
        """The stream is gone: a change may be missed, so nothing is answered or kept."""
        self._entries.clear()
        self._trusted = False
        self.generation += 1

    def get(self, key: bytes) -> CachedSession | None:
        """The session, marked used now; None when not trusted, unknown or ended."""
        entry = self._entries.get(key) if self._trusted else None
        if entry is None:
            self.misses += 1
            return None
        now = self.clock.now()
        if not entry.alive_at(now):
            del self._entries[key]
            self.misses += 1
            return None
        entry.last_used_at = now
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: bytes, session: CachedSession, generation: int) -> bool:
        """Keep `session`, validated by a call that started at `generation`, unless anything changed since."""
        if not self._trusted or generation != self.generation:
            return False
        self._entries[key] = session
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    def forget(self, *, session_id: str = "", tenant_user_id: str = "", tenant_id: str = "") -> None:
        """Drop every entry of the session, user or tenant named (before answering, or as told)."""
        self.generation += 1
        doomed = [
            key
            for key, entry in self._entries.items()
            if (session_id and entry.session_id == session_id)
            or (tenant_user_id and entry.tenant_user_id == tenant_user_id)
            or (tenant_id and entry.tenant_id == tenant_id)
        ]
        for key in doomed:
            del self._entries[key]

    def forget_token(self, key: bytes) -> None:
        self.generation += 1
        self._entries.pop(key, None)
