"""`central migrate`: every process's schema (common/processes.py), in the registry's order."""

from __future__ import annotations

from common.db.migrations import migrate
from common.processes import with_schema


async def migrate_all(url: str) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for process in with_schema():
        assert process.schema is not None and process.migrations_folder is not None
        applied[process.schema] = await migrate(url, process.schema, process.migrations_folder)
    return applied
