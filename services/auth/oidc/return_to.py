"""Where a browser is sent after single sign-on.

Which values are allowed (a path on this origin: never `//host`, `https://…` or `/\\host`) is
the field rule of `StartOidcLoginInput.return_to` in the proto, checked by the guard before
the flow starts and shown by the OpenAPI document.
"""

from __future__ import annotations


def safe_return_to(value: str) -> str:
    """`value`, already held to the proto's rule, or `/` when the caller gave none."""
    return value or "/"
