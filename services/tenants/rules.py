"""What a valid tenant looks like."""

from __future__ import annotations

import re

from common.errors import FieldViolation

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
DISPLAY_NAME_MAX = 200


def slug_violation(slug: str, field: str = "slug") -> FieldViolation | None:
    if SLUG.match(slug):
        return None
    return FieldViolation(
        field,
        "must be 3 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
    )


def normalise_display_name(display_name: str) -> str:
    return display_name.strip()


def display_name_violation(display_name: str, field: str = "display_name") -> FieldViolation | None:
    if 1 <= len(display_name) <= DISPLAY_NAME_MAX:
        return None
    return FieldViolation(field, f"must be 1 to {DISPLAY_NAME_MAX} characters once trimmed")
