"""Password hashing: argon2id with OWASP's parameters, always off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
OWASP_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class Passwords:
    def __init__(self, hasher: PasswordHasher = OWASP_HASHER) -> None:
        self._hasher = hasher
        # Verified against for unknown users, so that they take as long as known ones.
        self._dummy_hash = hasher.hash("not the password of anyone at all")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return (
                self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def within_our_parameters(self, password_hash: str) -> bool:
        """Whether a hash someone else made is argon2id at no more cost than ours: verifying one
        with a huge memory or time cost would take the service down at the next login."""
        try:
            theirs = extract_parameters(password_hash)
        except InvalidHashError:
            return False
        ours = self._hasher
        return (
            theirs.type is Type.ID
            and theirs.memory_cost <= ours.memory_cost
            and theirs.time_cost <= ours.time_cost
            and theirs.parallelism <= ours.parallelism
        )

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
