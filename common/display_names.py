"""How a display name (a tenant's, a user's) is stored: the one home of that rule.

What a valid one looks like is `central.api.v1.display_name` in protos/central/api/v1/rules.proto,
checked by the guard before any handler; the spaces around it are not part of the name.
"""

from __future__ import annotations


def stored_display_name(display_name: str) -> str:
    return display_name.strip()
