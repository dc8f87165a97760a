"""`central migrate`: every process's schema (common/processes.py), in the registry's order, each
with its owner and runtime roles (common/db/roles.py); run as the operator's administrator."""

from __future__ import annotations

from pathlib import Path

from common.db.logins import read_password
from common.db.migrations import migrate
from common.processes import runtime_role, with_schema


async def migrate_all(url: str, passwords_dir: Path | None = None) -> dict[str, list[str]]:
    """With `passwords_dir` (CENTRAL_DATABASE_PASSWORDS_DIR), each runtime role gets its password
    from there; without it, the roles keep theirs (none on the embedded server, which trusts)."""
    applied: dict[str, list[str]] = {}
    for process in with_schema():
        assert process.schema is not None and process.migrations_folder is not None
        password = read_password(passwords_dir, runtime_role(process.schema)) if passwords_dir else None
        applied[process.schema] = await migrate(url, process.schema, process.migrations_folder, password)
    return applied
