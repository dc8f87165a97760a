"""Who a provider's subject is in the tenant: a linked user, a linkable one, or a new one.

Linking and provisioning need the provider's word that the email is verified and a domain
the connector allows: a look-alike address at another provider must never take over a user.
"""

from __future__ import annotations

from uuid import UUID

from psycopg import errors as pg_errors
from ulid import ULID

from common.clock import Clock
from common.db.executor import Database, Executor
from common.display_names import stored_display_name
from common.logs import get_logger
from services.auth import errors
from services.auth.db import TENANT_USER_COLUMNS, AuthConnectorRow, TenantUserRow
from services.auth.oidc.id_token import VerifiedIdentity
from services.auth.tenant_users import TenantUserService


class ExternalIdentities:
    def __init__(self, db: Database, users: TenantUserService, clock: Clock) -> None:
        self.db = db
        self.users = users
        self.clock = clock
        self.logger = get_logger(type(self).__name__)

    async def tx_resolve(self, connector: AuthConnectorRow, identity: VerifiedIdentity) -> TenantUserRow:
        async with self.db.transaction() as tx:
            known = await self._linked_user(connector.auth_connector_id, identity, tx)
            if known is not None:
                return known
            _require_linkable(connector, identity)
            user = await self.users.get_by_email(connector.tenant_id, identity.email, tx)
            if user is None:
                if not connector.config.get("jit_provisioning", False):
                    raise errors.sso_refused(
                        "OIDC_USER_NOT_ALLOWED",
                        "no user of this tenant has that email, and none is made at login",
                    )
                user = await self._provision(connector, identity, tx)
            try:
                await tx.execute(
                    "INSERT INTO auth.external_identities"
                    " (auth_connector_id, issuer, subject, tenant_user_id, created_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (
                        connector.auth_connector_id,
                        identity.issuer,
                        identity.subject,
                        user.tenant_user_id,
                        self.clock.now(),
                    ),
                )
            except pg_errors.UniqueViolation:
                raise errors.sso_refused(
                    "OIDC_USER_NOT_ALLOWED", "that identity was linked at the same time"
                ) from None
            self.logger.info("linked an external identity to tenant user %s", user.tenant_user_id)
            return user

    async def _linked_user(
        self, connector_uuid: UUID, identity: VerifiedIdentity, executor: Executor
    ) -> TenantUserRow | None:
        return await executor.fetch_one(
            f"SELECT {', '.join('u.' + c for c in TENANT_USER_COLUMNS.split(', '))}"
            " FROM auth.external_identities e JOIN auth.tenant_users u USING (tenant_user_id)"
            " WHERE e.auth_connector_id = %s AND e.issuer = %s AND e.subject = %s",
            (connector_uuid, identity.issuer, identity.subject),
            row=TenantUserRow,
        )

    async def _provision(
        self, connector: AuthConnectorRow, identity: VerifiedIdentity, executor: Executor
    ) -> TenantUserRow:
        try:
            row = await executor.fetch_one(
                "INSERT INTO auth.tenant_users"
                " (tenant_user_id, tenant_id, email, display_name, role, password_hash)"
                f" VALUES (%s, %s, %s, %s, %s, NULL) RETURNING {TENANT_USER_COLUMNS}",
                (
                    ULID().to_uuid(),
                    connector.tenant_id,
                    identity.email,
                    stored_display_name(identity.name or identity.email.split("@")[0]),
                    connector.config.get("default_role") or "member",
                ),
                row=TenantUserRow,
            )
        except pg_errors.UniqueViolation:
            raise errors.sso_refused(
                "OIDC_USER_NOT_ALLOWED", "a user with that email was made at the same time"
            ) from None
        assert row is not None
        return row


def _require_linkable(connector: AuthConnectorRow, identity: VerifiedIdentity) -> None:
    if not identity.email or not identity.email_verified:
        raise errors.sso_refused("OIDC_EMAIL_NOT_VERIFIED", "the provider does not say the email is verified")
    domain = identity.email.rpartition("@")[2].lower()
    allowed = {d.lower() for d in connector.config.get("allowed_email_domains", [])}
    if domain not in allowed:
        raise errors.sso_refused(
            "OIDC_USER_NOT_ALLOWED", "the email's domain is not one this connector allows"
        )
