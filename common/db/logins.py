"""Who a process is to PostgreSQL: the URL it connects with, as the role common/processes.py names.

CENTRAL_DATABASE_URL (and CENTRAL_DATABASE_RO_URL) name the server and the database. A process of
the registry connects as its own runtime role whatever user the URL names, and must then find its
password in CENTRAL_DATABASE_PASSWORDS_DIR, as the file `<role>_db_password` (compose mounts one
such secret per container), unless that variable is unset (the embedded server trusts local
users). An operator's command (`central migrate`) connects as the URL's user, with the password
in that directory if it has one, else the URL's. A URL's password never serves another user.
"""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from common.config import Config, ConfigError
from common.db.embedded import embedded_database_url
from common.processes import BY_NAME

# A password shorter than this is a placeholder, not a secret.
MIN_PASSWORD_LENGTH = 16


def login_url(config: Config, process: str) -> str:
    """The read-write URL of `process` (a name in the registry, or an operator's command)."""
    return _as_login(config, process, config.database_url or embedded_database_url(config.home))


def login_ro_url(config: Config, process: str) -> str | None:
    """The read-only URL of `process`, as the same user; None without a replica."""
    return _as_login(config, process, config.database_ro_url) if config.database_ro_url else None


def password_file(directory: Path, user: str) -> Path:
    return directory / f"{user}_db_password"


def read_password(directory: Path, user: str) -> str:
    path = password_file(directory, user)
    try:
        password = path.read_text().rstrip("\r\n")
    except OSError as error:
        raise ConfigError(
            f"CENTRAL_DATABASE_PASSWORDS_DIR: cannot read {path}, the password of PostgreSQL user"
            f" {user!r} ({error.strerror})"
        ) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"{path}: the password of PostgreSQL user {user!r} is empty or shorter than"
            f" {MIN_PASSWORD_LENGTH} characters"
        )
    return password


def connect_as(url: str, user: str, password: str | None) -> str:
    """`url` logging in as `user` with `password`; the URL's own password only if it is `user`'s."""
    params = conninfo_to_dict(url)
    if params.get("user") != user:
        params.pop("password", None)
    params["user"] = user
    if password is not None:
        params["password"] = password
    return make_conninfo("", **params)


def _as_login(config: Config, process: str, url: str) -> str:
    directory = config.database_passwords_dir
    entry = BY_NAME.get(process)
    if entry is None:
        # An operator's command: the URL's user, with the password in the directory if it has one.
        user = conninfo_to_dict(url).get("user")
        if directory is None or not isinstance(user, str) or not password_file(directory, user).exists():
            return url
        return connect_as(url, user, read_password(directory, user))
    if entry.database_role is None:
        raise RuntimeError(f"{process} has no database role: it does not connect to PostgreSQL")
    role = entry.database_role
    return connect_as(url, role, read_password(directory, role) if directory else None)
