"""`central`: the one entry point of every Central process and operator command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from typing import Any

import uvloop

from common import processes
from common.config import Config, ConfigError
from common.container import Container
from common.logs import configure
from common.roles import Role


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="central", description="Central: tenants, users, auth, sessions, jobs."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("up", help="run the whole system on this machine")
    serve = commands.add_parser("serve", help="run one service (as a container does)")
    serve.add_argument("service", choices=[p.name for p in processes.served()])
    worker = commands.add_parser("worker", help="run the Temporal worker of one task queue")
    worker.add_argument("--queue", required=True, choices=[str(p.queue) for p in processes.workers()])
    commands.add_parser("migrate", help="apply every service's pending migrations")
    certs = commands.add_parser(
        "certs", help="make a CA and each process's certificate for mutual TLS (keeps good ones)"
    )
    certs.add_argument("--dir", required=True, metavar="DIR", help="one folder per process under DIR")
    keys = commands.add_parser("keys", help="make keys, and the trusted-keys list").add_subparsers(
        dest="action", required=True
    )
    keys.add_parser("new", help="print a new key (any CENTRAL_*_KEY)")
    trusted_keys = keys.add_parser("trusted", help="print CENTRAL_TRUSTED_KEYS for private signing keys")
    trusted_keys.add_argument(
        "keys", nargs="+", metavar="ISSUER=FILE", help="e.g. gateway=gateway-signing.key"
    )
    openapi = commands.add_parser("openapi", help="write the gateway's OpenAPI document (no server needed)")
    openapi.add_argument("--output", metavar="PATH", help="a file to write (default: standard output)")
    health = commands.add_parser(
        "healthcheck", help="exit 0 when a process is ready (container health checks)"
    )
    health.add_argument("target", choices=[p.healthcheck_target for p in processes.PROCESSES])

    tenants = commands.add_parser("tenants", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenants.add_parser("create", help="create a tenant")
    create.add_argument("--slug", required=True)
    create.add_argument("--display-name", required=True)
    get = tenants.add_parser("get", help="show one tenant")
    get.add_argument("tenant_id", metavar="TENANT_ID")
    delete = tenants.add_parser("delete", help="delete a tenant and its users (and their sessions)")
    delete.add_argument("tenant_id", metavar="TENANT_ID")
    listing = tenants.add_parser("list", help="list tenants, oldest first")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--cursor")
    temporal = commands.add_parser("temporal", help="read Temporal histories").add_subparsers(
        dest="action", required=True
    )
    temporal.add_parser("decode", help="open the sealed payloads of a history (JSON on standard input)")
    users = commands.add_parser("users", help="manage tenant users")
    users_actions = users.add_subparsers(dest="action", required=True)
    create_user = users_actions.add_parser("create", help="create a tenant user (password on standard input)")
    create_user.add_argument("--tenant", required=True, metavar="TENANT_ID")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--display-name", required=True)
    create_user.add_argument("--role", required=True, choices=[role.value for role in Role])
    connectors = commands.add_parser("auth-connectors", help="manage auth connectors").add_subparsers(
        dest="action", required=True
    )
    connectors.add_parser(
        "reencrypt-secrets", help="seal every OIDC client secret again under CENTRAL_ENCRYPTION_KEY"
    )
    return parser


def _run(config: Config, args: argparse.Namespace) -> Coroutine[Any, Any, int]:
    from cli import operator

    match args.command:
        case "up":
            from cli.up import up

            return up(config)
        case "serve":
            return _serve(config, args.service)
        case "migrate":
            return _migrate(config)
        case "certs":
            from pathlib import Path

            from cli.certs import certs

            return certs(Path(args.dir), [p.name for p in processes.PROCESSES])
        case "keys":
            from cli import keys

            return keys.trusted(args.keys) if args.action == "trusted" else keys.new()
        case "openapi":
            from cli.openapi import write_document

            return write_document(config, args.output)
        case "worker":
            return _worker(config, args.queue)
        case "healthcheck":
            from cli.healthcheck import healthcheck

            return healthcheck(config, args.target)
        case "tenants":
            address = "tenants"
            if args.action == "create":
                return operator.run(config, address, operator.tenants_create(args.slug, args.display_name))
            if args.action == "get":
                return operator.run(config, address, operator.tenants_get(args.tenant_id))
            if args.action == "delete":
                from cli.delete_tenant import delete_tenant

                return delete_tenant(config, args.tenant_id)
            return operator.run(config, address, operator.tenants_list(args.limit, args.cursor))
        case "temporal":
            from cli.temporal_decode import decode

            return decode(config)
        case "auth-connectors":
            return operator.run(config, "auth", operator.reencrypt_secrets())
        case "users":
            call = operator.users_create(
                args.tenant, args.email, args.display_name, args.role, operator.read_password()
            )
            return operator.run(config, "auth", call)
    raise AssertionError(args.command)


async def _serve(config: Config, name: str) -> int:
    process = processes.process(name)
    container = Container.create(config, process=name)
    if process.kind is processes.Kind.GRPC:
        from common.grpc.server import serve_until_signalled

        # Before any connection is made: an unsafe address stops the process at once.
        container.transport.check(str(config.address(name)), "listen on")
        register = await process.load()(container)
        await serve_until_signalled(
            name, str(config.address(name)), register, container, process.max_message_bytes
        )
    else:
        await process.load()(container)
    return 0


async def _worker(config: Config, queue: str) -> int:
    from common.temporal.queues import TaskQueue

    process = next(p for p in processes.workers() if p.queue == queue)
    await process.load()(Container.create(config, process=process.name), TaskQueue(queue))
    return 0


async def _migrate(config: Config) -> int:
    from cli.migrate import migrate_all

    # As the URL's user, the administrator: not a process of the registry, so no runtime role.
    container = Container.create(config)
    applied = await migrate_all(container.database_url(), config.database_passwords_dir)
    for schema, versions in applied.items():
        print(f"{schema}: {', '.join(versions) if versions else 'up to date'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"central: configuration error: {error}", file=sys.stderr)
        return 2
    configure(config.log_level, config.log_format)
    try:
        # uvloop everywhere: grpc.aio, psycopg and uvicorn all run measurably faster on it.
        return uvloop.run(_run(config, args))
    except ConfigError as error:
        print(f"central: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
