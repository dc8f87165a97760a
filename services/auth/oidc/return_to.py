"""Where a browser may be sent after single sign-on: a path on this origin, nothing else."""

from __future__ import annotations

from services.auth import errors

_MAX_LENGTH = 2048


def safe_return_to(value: str) -> str:
    """`value` when it is a path on this origin (`/x`); `//evil`, `https://…`, `/\\evil` are a 400."""
    if not value:
        return "/"
    ok = (
        len(value) <= _MAX_LENGTH
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and all(0x21 <= ord(c) < 0x7F and c != "\\" for c in value)
    )
    if not ok:
        raise errors.sso_refused("RETURN_TO_INVALID", "returnTo must be a path on this origin, such as /home")
    return value
