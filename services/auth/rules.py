"""What valid auth data looks like."""

from __future__ import annotations

import re

from common.errors import FieldViolation

ROLES = ("admin", "member")
DEFAULT_MIN_PASSWORD_LENGTH = 12
# A floor no connector may go below, and a ceiling that bounds hashing work.
MIN_PASSWORD_LENGTH_FLOOR = 8
MAX_PASSWORD_LENGTH = 256
DISPLAY_NAME_MAX = 200
CONNECTOR_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Deliberately permissive: one @, something on each side, a dot in the domain, no spaces.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254


def email_violation(email: str, field: str = "email") -> FieldViolation | None:
    if len(email) <= EMAIL_MAX and EMAIL.match(email):
        return None
    return FieldViolation(field, "must be an email address")


def display_name_violation(display_name: str, field: str = "display_name") -> FieldViolation | None:
    if 1 <= len(display_name) <= DISPLAY_NAME_MAX:
        return None
    return FieldViolation(field, f"must be 1 to {DISPLAY_NAME_MAX} characters once trimmed")


def role_violation(role: str, field: str = "role") -> FieldViolation | None:
    return None if role in ROLES else FieldViolation(field, "must be admin or member")


def password_violation(password: str, min_length: int, field: str = "password") -> FieldViolation | None:
    if len(password) < min_length:
        return FieldViolation(field, f"must be at least {min_length} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        return FieldViolation(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    return None


def password_hash_violation(password_hash: str, field: str = "password_hash") -> FieldViolation | None:
    if password_hash.startswith("$argon2id$") and len(password_hash) <= 512:
        return None
    return FieldViolation(field, "must be an argon2id hash")


def connector_name_violation(name: str, field: str = "name") -> FieldViolation | None:
    if CONNECTOR_NAME.match(name):
        return None
    return FieldViolation(
        field, "must be 1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit"
    )


def min_length_violation(min_length: int, field: str = "password.min_length") -> FieldViolation | None:
    if MIN_PASSWORD_LENGTH_FLOOR <= min_length <= MAX_PASSWORD_LENGTH:
        return None
    return FieldViolation(field, f"must be between {MIN_PASSWORD_LENGTH_FLOOR} and {MAX_PASSWORD_LENGTH}")


def issuer_violation(issuer: str, field: str = "oidc.issuer") -> FieldViolation | None:
    if re.match(r"^https://[^\s/]+(/\S*)?$", issuer):
        return None
    return FieldViolation(field, "must be an https URL")


def required_violation(value: str, field: str) -> FieldViolation | None:
    return None if value.strip() else FieldViolation(field, "is required")
