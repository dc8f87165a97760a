"""What a valid tenant looks like, beyond the field rules of the protos.

The slug and display name rules live in protos/central/api/v1/rules.proto and are checked by
the guard before any handler; what stays here is how a name is stored.
"""

from __future__ import annotations


def normalise_display_name(display_name: str) -> str:
    return display_name.strip()
