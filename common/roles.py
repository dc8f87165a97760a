"""The roles a tenant user holds: the one home of their names.

The value is what the wire and the database carry (`"admin"`, `"member"`); the protos
spell the same strings in the `role` field's rule, and a test keeps them equal.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
