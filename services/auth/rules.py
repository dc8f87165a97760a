"""What valid auth data looks like, beyond the field rules of the protos.

Lengths, patterns and ranges of every input field live in protos/ (`buf.validate`
annotations, checked by the guard before any handler). What stays here depends on state
or configuration: the minimum length a tenant's password connector asks for.
"""

from __future__ import annotations

from common.errors import FieldViolation

# The minimum of a password connector created without one; SignupInput.password declares it too.
DEFAULT_MIN_PASSWORD_LENGTH = 12
# The ceiling that bounds hashing work; the protos bound every password field to it.
MAX_PASSWORD_LENGTH = 256


def password_violation(password: str, min_length: int, field: str = "password") -> FieldViolation | None:
    """The connector's own minimum (the protos already bound the length from above)."""
    if len(password) < min_length:
        return FieldViolation(field, f"must be at least {min_length} characters")
    return None


def entered_email(text: str) -> str:
    """An email as a person typed it, without the spaces around it; its case is kept for display
    (an account is unique per tenant whatever the case: the index on lower(email))."""
    return text.strip()
