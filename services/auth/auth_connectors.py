"""Auth connectors: how a tenant's users log in. An OIDC client secret never leaves this module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.types.json import Jsonb
from ulid import ULID

from central.auth.v1 import auth_connectors_pb2 as pb
from common.db.executor import Database, Executor, Transaction
from common.lists import Cursors
from common.logs import get_logger
from services.auth import errors, rules
from services.auth.db import AUTH_CONNECTOR_COLUMNS, AuthConnectorRow
from services.auth.ids import AuthConnectorIds
from services.auth.session_changes import announce
from services.tenants.ids import TenantIds

T = TypeVar("T")
DEFAULT_PASSWORD_CONNECTOR = "password"


class AuthConnectorService:
    def __init__(self, db: Database, db_ro: Database, cursors: Cursors) -> None:
        self.db = db
        self.db_ro = db_ro
        self.cursors = cursors
        self.logger = get_logger(type(self).__name__)

    async def _get_by_auth_connector_uuid(
        self, tenant_uuid: UUID, connector_uuid: UUID, executor: Executor | None = None
    ) -> AuthConnectorRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors"
            " WHERE tenant_id = %s AND auth_connector_id = %s",
            (tenant_uuid, connector_uuid),
            row=AuthConnectorRow,
        )

    async def with_auth_connector_by_auth_connector_id(
        self,
        tenant_id: str,
        auth_connector_id: str,
        fn: Callable[[AuthConnectorRow], Awaitable[T]],
        executor: Executor | None = None,
    ) -> T:
        row = await self._get_by_auth_connector_uuid(
            TenantIds.to_uuid(tenant_id), AuthConnectorIds.to_uuid(auth_connector_id), executor
        )
        if row is None:
            raise errors.auth_connector_not_found()
        return await fn(row)

    async def get_by_auth_connector_id(
        self, tenant_id: str, auth_connector_id: str, executor: Executor | None = None
    ) -> pb.AuthConnector:
        async def public(row: AuthConnectorRow) -> pb.AuthConnector:
            return self._to_auth_connector(row)

        return await self.with_auth_connector_by_auth_connector_id(
            tenant_id, auth_connector_id, public, executor
        )

    async def get_password_connector(
        self, tenant_uuid: UUID, executor: Executor | None = None
    ) -> AuthConnectorRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors WHERE tenant_id = %s AND name = %s",
            (tenant_uuid, DEFAULT_PASSWORD_CONNECTOR),
            row=AuthConnectorRow,
        )

    async def ensure_default_password_connector(
        self, tenant_uuid: UUID, executor: Executor
    ) -> AuthConnectorRow:
        """The tenant's default password connector, made now if missing (inside the caller's transaction)."""
        await executor.execute(
            "INSERT INTO auth.auth_connectors (auth_connector_id, tenant_id, name, kind, config)"
            " VALUES (%s, %s, %s, 'password', %s) ON CONFLICT (tenant_id, name) DO NOTHING",
            (
                ULID().to_uuid(),
                tenant_uuid,
                DEFAULT_PASSWORD_CONNECTOR,
                Jsonb({"min_length": rules.DEFAULT_MIN_PASSWORD_LENGTH}),
            ),
        )
        row = await self.get_password_connector(tenant_uuid, executor)
        assert row is not None
        return row

    async def create_auth_connector(
        self, input: pb.CreateAuthConnectorInput, executor: Executor | None = None
    ) -> pb.AuthConnector:
        tenant_uuid = TenantIds.to_uuid(input.tenant_id, field="tenant_id")
        kind, config = _validated_config(input)
        executor = executor or self.db
        taken = await executor.fetch_one(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors WHERE tenant_id = %s AND name = %s",
            (tenant_uuid, input.name),
            row=AuthConnectorRow,
        )
        if taken is not None:
            raise errors.connector_name_taken(input.name)
        try:
            row = await executor.fetch_one(
                "INSERT INTO auth.auth_connectors (auth_connector_id, tenant_id, name, kind, config)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {AUTH_CONNECTOR_COLUMNS}",
                (ULID().to_uuid(), tenant_uuid, input.name, kind, Jsonb(config)),
                row=AuthConnectorRow,
            )
        except pg_errors.UniqueViolation:
            raise errors.connector_name_taken(input.name) from None
        assert row is not None
        self.logger.info("created %s connector %s", kind, AuthConnectorIds.to_rich_id(row.auth_connector_id))
        return self._to_auth_connector(row)

    async def set_enabled(
        self, tenant_id: str, auth_connector_id: str, enabled: bool, executor: Executor | None = None
    ) -> pb.AuthConnector:
        row = await (executor or self.db).fetch_one(
            f"UPDATE auth.auth_connectors SET enabled = %s WHERE tenant_id = %s AND auth_connector_id = %s"
            f" RETURNING {AUTH_CONNECTOR_COLUMNS}",
            (enabled, TenantIds.to_uuid(tenant_id), AuthConnectorIds.to_uuid(auth_connector_id)),
            row=AuthConnectorRow,
        )
        if row is None:
            raise errors.auth_connector_not_found()
        return self._to_auth_connector(row)

    async def tx_disable_auth_connector(self, tenant_id: str, auth_connector_id: str) -> pb.AuthConnector:
        """Disable a connector, unless it is the last enabled one of its tenant."""
        async with self.db.transaction() as tx:
            await self._lock_keeping_a_way_in(tenant_id, auth_connector_id, tx)
            await announce(tx, "tenant_id", tenant_id)
            return await self.set_enabled(tenant_id, auth_connector_id, enabled=False, executor=tx)

    async def tx_delete_auth_connector(self, tenant_id: str, auth_connector_id: str) -> None:
        """Delete a connector, unless it is the last enabled one of its tenant."""
        async with self.db.transaction() as tx:
            await self._lock_keeping_a_way_in(tenant_id, auth_connector_id, tx)
            await tx.execute(
                "DELETE FROM auth.auth_connectors WHERE tenant_id = %s AND auth_connector_id = %s",
                (TenantIds.to_uuid(tenant_id), AuthConnectorIds.to_uuid(auth_connector_id)),
            )
            await announce(tx, "tenant_id", tenant_id)

    async def _lock_keeping_a_way_in(self, tenant_id: str, auth_connector_id: str, tx: Transaction) -> None:
        """Lock the tenant's connectors; refuse to take `auth_connector_id` away if nobody could log in then.

        With the rows locked until `tx` ends, two connectors disabled or deleted at once are
        changed one after the other, and the second sees the first's outcome.
        """
        connector_uuid = AuthConnectorIds.to_uuid(auth_connector_id)
        locked = await tx.fetch_all(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors WHERE tenant_id = %s"
            " ORDER BY auth_connector_id FOR UPDATE",
            (TenantIds.to_uuid(tenant_id),),
            row=AuthConnectorRow,
        )
        target = next((row for row in locked if row.auth_connector_id == connector_uuid), None)
        if target is None:
            raise errors.auth_connector_not_found()
        others_enabled = [row for row in locked if row.enabled and row is not target]
        if target.enabled and not others_enabled:
            raise errors.last_login_connector()

    async def list_auth_connectors(
        self, request: pb.ListAuthConnectorsInputOrCursor, executor: Executor | None = None
    ) -> pb.ListAuthConnectorsResponse:
        tenant_id = request.tenant_id
        page = self.cursors.start(request, pb.ListAuthConnectorsInput)
        after = AuthConnectorIds.to_uuid(page.after, field="cursor") if page.after else None
        rows = await (executor or self.db_ro).fetch_all(
            sql.SQL(f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors WHERE tenant_id = %(tenant)s")
            + page.keyset("auth_connector_id"),
            {"tenant": TenantIds.to_uuid(tenant_id), **page.keyset_params(after)},
            row=AuthConnectorRow,
        )
        connectors = [self._to_auth_connector(row) for row in rows]
        connectors, next_cursor = self.cursors.page_end(page, connectors, lambda c: c.auth_connector_id)
        return pb.ListAuthConnectorsResponse(auth_connectors=connectors, next_cursor=next_cursor)

    async def list_login_options(
        self, tenant_id: str, executor: Executor | None = None
    ) -> list[pb.AuthConnectorPublic]:
        rows = await (executor or self.db_ro).fetch_all(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors WHERE tenant_id = %s AND enabled"
            " ORDER BY auth_connector_id",
            (TenantIds.to_uuid(tenant_id),),
            row=AuthConnectorRow,
        )
        return [
            pb.AuthConnectorPublic(
                auth_connector_id=AuthConnectorIds.to_rich_id(row.auth_connector_id),
                name=row.name,
                kind=row.kind,
            )
            for row in rows
        ]

    def _to_auth_connector(self, row: AuthConnectorRow) -> pb.AuthConnector:
        connector = pb.AuthConnector(
            auth_connector_id=AuthConnectorIds.to_rich_id(row.auth_connector_id),
            tenant_id=TenantIds.to_rich_id(row.tenant_id),
            name=row.name,
            enabled=row.enabled,
        )
        if row.kind == "password":
            connector.password.min_length = int(row.config["min_length"])
        else:
            # Everything but the client secret.
            connector.oidc.issuer = row.config["issuer"]
            connector.oidc.client_id = row.config["client_id"]
        connector.created_at.FromDatetime(row.created_at)
        return connector


def min_password_length(row: AuthConnectorRow | None) -> int:
    return int(row.config["min_length"]) if row is not None else rules.DEFAULT_MIN_PASSWORD_LENGTH


def _validated_config(input: pb.CreateAuthConnectorInput) -> tuple[str, dict[str, Any]]:
    kind = input.WhichOneof("kind")
    if kind == "password":
        return kind, {"min_length": input.password.min_length or rules.DEFAULT_MIN_PASSWORD_LENGTH}
    # The protos' rules, checked by the guard, make `kind` required: this is the OIDC one.
    assert kind == "oidc"
    return kind, {
        "issuer": input.oidc.issuer,
        "client_id": input.oidc.client_id,
        "client_secret": input.oidc.client_secret,
    }
