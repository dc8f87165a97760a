"""Failed-login throttling, kept in PostgreSQL so that it holds across replicas."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import Clock
from common.db.executor import Database
from common.errors import ResourceExhaustedError
from services.auth.errors import DOMAIN


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    max_failures: int


@dataclass(frozen=True, slots=True)
class _Window:
    failures: int
    oldest: datetime | None


class LoginThrottle:
    def __init__(self, db: Database, clock: Clock, window_seconds: int) -> None:
        self.db = db
        self.clock = clock
        self.window = timedelta(seconds=window_seconds)

    async def check(self, limits: list[Limit]) -> None:
        """Refuse with RESOURCE_EXHAUSTED and a retry delay when any key is past its limit."""
        now = self.clock.now()
        for limit in limits:
            window = await self.db.fetch_one(
                "SELECT count(*) AS failures, min(failed_at) AS oldest FROM auth.login_failures"
                " WHERE throttle_key = %s AND failed_at > %s",
                (limit.key, now - self.window),
                row=_Window,
            )
            if window is not None and window.failures >= limit.max_failures and window.oldest is not None:
                retry_after = math.ceil((window.oldest + self.window - now).total_seconds())
                raise ResourceExhaustedError(
                    "too many failed logins; try again later",
                    retry_after_seconds=max(1, retry_after),
                    reason="LOGIN_THROTTLED",
                    domain=DOMAIN,
                )

    async def record_failure(self, keys: list[str]) -> None:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            # Forget what has left the window, for these keys, as we go.
            await tx.execute(
                "DELETE FROM auth.login_failures WHERE throttle_key = ANY(%s) AND failed_at <= %s",
                (keys, now - self.window),
            )
            for key in keys:
                await tx.execute(
                    "INSERT INTO auth.login_failures (throttle_key, failed_at) VALUES (%s, %s)", (key, now)
                )

    async def clear(self, key: str) -> None:
        await self.db.execute("DELETE FROM auth.login_failures WHERE throttle_key = %s", (key,))
