"""Rich IDs: `{prefix}-{ULID}` outside, the same 128 bits as a `uuid` in the database.

Each domain declares its own in its `ids.py`:

    TenantId = NewType("TenantId", str)
    TenantIds = RichIds("tenant", TenantId)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar
from uuid import UUID

from ulid import ULID

from common.errors import ValidationError

IdT = TypeVar("IdT", bound=str)

_PREFIX = re.compile(r"[a-z]+")
# Crockford base32, upper case as python-ulid writes it; the first character keeps it in 128 bits.
_ULID = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"


class RichIds(Generic[IdT]):
    """The helpers for one kind of rich ID."""

    def __init__(self, prefix: str, make: Callable[[str], IdT]) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"rich ID prefix must be one lowercase word, got {prefix!r}")
        self.prefix = prefix
        self._make = make
        self._pattern = re.compile(rf"{prefix}-{_ULID}")

    def new(self) -> IdT:
        return self._make(f"{self.prefix}-{ULID()}")

    def guard(self, value: object) -> bool:
        # fullmatch, never `$`: `$` also matches before a final newline.
        return isinstance(value, str) and self._pattern.fullmatch(value) is not None

    def ensure(self, value: object, *, field: str | None = None) -> IdT:
        if not self.guard(value):
            raise ValidationError.of(
                field or f"{self.prefix}_id",
                f"must be a {self.prefix} ID ({self.prefix}-<ULID>)",
                reason="INVALID_ID",
            )
        assert isinstance(value, str)
        return self._make(value)

    def to_rich_id(self, value: UUID | str) -> IdT:
        if isinstance(value, UUID):
            return self._make(f"{self.prefix}-{ULID.from_uuid(value)}")
        return self.ensure(value)

    def to_uuid(self, rich_id: str, *, field: str | None = None) -> UUID:
        checked = self.ensure(rich_id, field=field)
        return ULID.from_str(checked[len(self.prefix) + 1 :]).to_uuid()
