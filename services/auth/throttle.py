"""Login throttling, kept in PostgreSQL so that it holds across replicas and under any concurrency.

Each key (a tenant's email, a client address) has a window that opens with its first attempt.
An attempt is reserved before the password is checked: one upsert per key counts it and
answers the count, so of N guesses at once at most the limit get as far as the password.
Keys are stored as their SHA-256: whatever an attacker sends, a row stays small.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock
from common.db.executor import Database, Executor
from common.errors import ResourceExhaustedError
from services.auth.errors import DOMAIN


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    max_attempts: int


@dataclass(frozen=True, slots=True)
class _Window:
    attempts: int
    window_started_at: datetime


@dataclass(frozen=True, slots=True)
class Reservation:
    """The attempt counted against each key: (key hash, start of the window it was counted in)."""

    windows: tuple[tuple[bytes, datetime], ...]


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _by_hash(pair: tuple[bytes, Limit]) -> bytes:
    return pair[0]


# Counts one attempt in the key's window, or opens a new window when the last one has passed.
# In SET, `t` is the row as it was: both columns decide on the old window.
_RESERVE = (
    "INSERT INTO auth.login_throttles AS t (key_hash, window_started_at, attempts)"
    " VALUES (%(key)s, %(now)s, 1)"
    " ON CONFLICT (key_hash) DO UPDATE SET"
    " attempts = CASE WHEN t.window_started_at > %(expired)s THEN t.attempts + 1 ELSE 1 END,"
    " window_started_at = CASE WHEN t.window_started_at > %(expired)s"
    " THEN t.window_started_at ELSE %(now)s END"
    " RETURNING attempts, window_started_at"
)


class LoginThrottle:
    def __init__(self, db: Database, clock: Clock, window_seconds: int) -> None:
        self.db = db
        self.clock = clock
        self.window = timedelta(seconds=window_seconds)

    async def tx_reserve(
        self, limits: list[Limit], *, what: str = "failed logins", reason: str = "LOGIN_THROTTLED"
    ) -> Reservation:
        """Count one attempt against every key, or against none and refuse with a retry delay.

        The keys are locked in one order, so two attempts never wait on each other crosswise;
        a refusal rolls back what it had counted, so refused attempts never extend a lockout.
        """
        now = self.clock.now()
        windows: list[tuple[bytes, datetime]] = []
        async with self.db.transaction() as tx:
            for key_hash, limit in sorted(((hash_key(lim.key), lim) for lim in limits), key=_by_hash):
                window = await tx.fetch_one(
                    _RESERVE, {"key": key_hash, "now": now, "expired": now - self.window}, row=_Window
                )
                assert window is not None
                if window.attempts > limit.max_attempts:
                    retry_after = math.ceil((window.window_started_at + self.window - now).total_seconds())
                    raise ResourceExhaustedError(
                        f"too many {what}; try again later",
                        retry_after_seconds=max(1, retry_after),
                        reason=reason,
                        domain=DOMAIN,
                    )
                windows.append((key_hash, window.window_started_at))
        return Reservation(tuple(windows))

    async def release(self, reservation: Reservation, executor: Executor | None = None) -> None:
        """Give back a reserved attempt that turned out good: only failures count."""
        for key_hash, window_started_at in reservation.windows:
            await (executor or self.db).execute(
                "UPDATE auth.login_throttles SET attempts = attempts - 1"
                " WHERE key_hash = %s AND window_started_at = %s AND attempts > 0",
                (key_hash, window_started_at),
            )

    async def clear(self, key: str, executor: Executor | None = None) -> None:
        """Forget every attempt on `key` (a good login clears its email's failures)."""
        await (executor or self.db).execute(
            "DELETE FROM auth.login_throttles WHERE key_hash = %s", (hash_key(key),)
        )

    async def delete_expired(self, batch_size: int, executor: Executor | None = None) -> int:
        """Delete up to `batch_size` keys whose window has passed; they would start afresh anyway."""
        # The outer condition is checked again on a row that a login renewed meanwhile.
        return await (executor or self.db).execute(
            "DELETE FROM auth.login_throttles WHERE window_started_at <= %(expired)s AND key_hash IN ("
            " SELECT key_hash FROM auth.login_throttles WHERE window_started_at <= %(expired)s"
            " LIMIT %(batch)s)",
            {"expired": self.clock.now() - self.window, "batch": batch_size},
        )
