"""`central migrate`: every service's schema, in the order services depend on each other."""

from __future__ import annotations

from pathlib import Path

from common.db.migrations import migrate
from services.auth import db as auth_db
from services.tenants import db as tenants_db

# (schema, migrations folder) of each service that owns one.
SCHEMAS: list[tuple[str, Path]] = [
    (tenants_db.SCHEMA, tenants_db.MIGRATIONS),
    (auth_db.SCHEMA, auth_db.MIGRATIONS),
]


async def migrate_all(url: str) -> dict[str, list[str]]:
    return {schema: await migrate(url, schema, folder) for schema, folder in SCHEMAS}
