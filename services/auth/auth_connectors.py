"""Auth connectors: how a tenant's users log in. An OIDC client secret is stored encrypted
(common/crypto.py) and never leaves this module but to the token endpoint."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.types.json import Jsonb
from ulid import ULID

from central.auth.v1 import auth_connectors_pb2 as pb
from common.crypto import DecryptionError, SecretBox
from common.db.executor import Database, Executor, Transaction
from common.errors import FieldViolation, collect_violations
from common.lists import Cursors
from common.logs import get_logger
from services.auth import errors, rules
from services.auth.db import AUTH_CONNECTOR_COLUMNS, AuthConnectorRow
from services.auth.ids import AuthConnectorIds
from services.auth.session_changes import announce
from services.tenants.ids import TenantIds

T = TypeVar("T")
DEFAULT_PASSWORD_CONNECTOR = "password"
OIDC_DEFAULT_SCOPES = ("openid", "email", "profile")


class AuthConnectorService:
    def __init__(self, db: Database, db_ro: Database, cursors: Cursors, secrets: SecretBox) -> None:
        self.db = db
        self.db_ro = db_ro
        self.cursors = cursors
        self.secrets = secrets
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

    async def get_oidc_connector(self, auth_connector_id: str) -> AuthConnectorRow:
        """An OIDC connector by its ID alone (a login starts before anyone names the tenant)."""
        row = await self.db.fetch_one(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors"
            " WHERE auth_connector_id = %s AND kind = 'oidc'",
            (AuthConnectorIds.to_uuid(auth_connector_id, field="auth_connector_id"),),
            row=AuthConnectorRow,
        )
        if row is None:
            raise errors.auth_connector_not_found()
        return row

    def client_secret(self, row: AuthConnectorRow) -> str:
        """The OIDC client secret, decrypted: for the provider's token endpoint only."""
        stored = row.config["client_secret"]
        return self.secrets.decrypt(stored, _secret_context(row.auth_connector_id))

    async def tx_reencrypt_secrets(self) -> pb.ReencryptSecretsResponse:
        """Seal again, under the current key, every client secret sealed under an earlier one held."""
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(
                f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors WHERE kind = 'oidc'"
                " ORDER BY auth_connector_id FOR UPDATE",
                None,
                row=AuthConnectorRow,
            )
            stale = [row for row in rows if not self.secrets.is_current(row.config["client_secret"])]
            answer = pb.ReencryptSecretsResponse()
            for row in stale:
                context = _secret_context(row.auth_connector_id)
                try:
                    secret = self.secrets.decrypt(row.config["client_secret"], context)
                except DecryptionError:
                    answer.unopened += 1
                    continue
                answer.reencrypted += 1
                await tx.execute(
                    "UPDATE auth.auth_connectors SET config = jsonb_set(config, '{client_secret}', %s)"
                    " WHERE auth_connector_id = %s",
                    (Jsonb(self.secrets.encrypt(secret, context)), row.auth_connector_id),
                )
        self.logger.info("re-encrypted %d client secrets (%d unopened)", answer.reencrypted, answer.unopened)
        return answer

    async def get_password_connector(
        self, tenant_uuid: UUID, executor: Executor | None = None
    ) -> AuthConnectorRow | None:
        """The tenant's password connector, found by its kind: a name is the admin's to change.
        Should there be several, an enabled one, the oldest first."""
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {AUTH_CONNECTOR_COLUMNS} FROM auth.auth_connectors"
            " WHERE tenant_id = %s AND kind = 'password' ORDER BY enabled DESC, auth_connector_id LIMIT 1",
            (tenant_uuid,),
            row=AuthConnectorRow,
        )

    async def ensure_default_password_connector(
        self, tenant_uuid: UUID, executor: Executor
    ) -> AuthConnectorRow:
        """The tenant's password connector, made now if it has none (inside the caller's transaction);
        named `password`, or `password-<id>` when another connector holds that name."""
        if (row := await self.get_password_connector(tenant_uuid, executor)) is not None:
            return row
        connector_uuid = ULID().to_uuid()
        own_name = f"{DEFAULT_PASSWORD_CONNECTOR}-{str(ULID.from_uuid(connector_uuid)).lower()}"
        config = Jsonb({"min_length": rules.DEFAULT_MIN_PASSWORD_LENGTH})
        for name in (DEFAULT_PASSWORD_CONNECTOR, own_name):
            await executor.execute(
                "INSERT INTO auth.auth_connectors (auth_connector_id, tenant_id, name, kind, config)"
                " VALUES (%s, %s, %s, 'password', %s) ON CONFLICT (tenant_id, name) DO NOTHING",
                (connector_uuid, tenant_uuid, name, config),
            )
            if (row := await self.get_password_connector(tenant_uuid, executor)) is not None:
                return row
        raise AssertionError("a connector named after its own ID took a name already taken")

    async def create_auth_connector(
        self, input: pb.CreateAuthConnectorInput, executor: Executor | None = None
    ) -> pb.AuthConnector:
        tenant_uuid = TenantIds.to_uuid(input.tenant_id, field="tenant_id")
        connector_uuid = ULID().to_uuid()
        kind, config = _validated_config(input)
        if kind == "oidc":
            config["client_secret"] = self.secrets.encrypt(
                input.oidc.client_secret, _secret_context(connector_uuid)
            )
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
                (connector_uuid, tenant_uuid, input.name, kind, Jsonb(config)),
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

    async def tx_delete_tenant_auth_connectors(self, tenant_id: str) -> int:
        """Every connector of a deleted tenant; its external identities and login states go with them."""
        async with self.db.transaction() as tx:
            deleted = await tx.execute(
                "DELETE FROM auth.auth_connectors WHERE tenant_id = %s", (TenantIds.to_uuid(tenant_id),)
            )
            await announce(tx, "tenant_id", tenant_id)
        self.logger.info("deleted %d auth connectors of tenant %s", deleted, tenant_id)
        return deleted

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
        return [_to_auth_connector_public(row) for row in rows]

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
            config = row.config
            connector.oidc.issuer = config["issuer"]
            connector.oidc.client_id = config["client_id"]
            connector.oidc.scopes.extend(config.get("scopes") or OIDC_DEFAULT_SCOPES)
            connector.oidc.allowed_email_domains.extend(config.get("allowed_email_domains", []))
            connector.oidc.jit_provisioning = bool(config.get("jit_provisioning", False))
            connector.oidc.default_role = config.get("default_role") or "member"
            connector.oidc.client_auth_method = config.get("client_auth_method") or "client_secret_basic"
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
    oidc = input.oidc
    collect_violations(_issuer_violation(oidc.issuer), domain=errors.DOMAIN)
    return kind, {
        "issuer": oidc.issuer,
        "client_id": oidc.client_id,
        "scopes": list(oidc.scopes),
        "allowed_email_domains": sorted({d.lower() for d in oidc.allowed_email_domains}),
        "jit_provisioning": oidc.jit_provisioning,
        "default_role": oidc.default_role or "member",
        "client_auth_method": oidc.client_auth_method or "client_secret_basic",
    }


def _issuer_violation(issuer: str) -> FieldViolation | None:
    """An issuer is https, or http on a loopback host (development and tests)."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return None
    return FieldViolation("oidc.issuer", "must be an https URL (http only on a loopback host)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret_context(connector_uuid: UUID) -> str:
    # Binds the ciphertext to its connector: copied onto another row, it does not open.
    return f"auth.auth_connectors.client_secret:{connector_uuid}"


def _to_auth_connector_public(row: AuthConnectorRow) -> pb.AuthConnectorPublic:
    connector_id = AuthConnectorIds.to_rich_id(row.auth_connector_id)
    public = pb.AuthConnectorPublic(auth_connector_id=connector_id, name=row.name, kind=row.kind)
    if row.kind == "oidc":
        public.start_url = f"/auth/oidc/{connector_id}/start"
    return public
