"""Tenant users: the people who log into a tenant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql
from ulid import ULID

from central.auth.v1 import tenant_users_pb2 as pb
from common.db.executor import Database, Executor
from common.errors import collect_violations
from common.lists import Cursors, Page
from common.logs import get_logger
from services.auth import errors, rules
from services.auth.auth_connectors import AuthConnectorService, min_password_length
from services.auth.db import TENANT_USER_COLUMNS, TenantUserRow
from services.auth.ids import TenantUserIds
from services.auth.passwords import Passwords
from services.auth.tenants_directory import TenantsDirectory
from services.tenants.ids import TenantIds

T = TypeVar("T")


class TenantUserService:
    def __init__(
        self,
        db: Database,
        db_ro: Database,
        cursors: Cursors,
        passwords: Passwords,
        connectors: AuthConnectorService,
        tenants: TenantsDirectory,
    ) -> None:
        self.db = db
        self.db_ro = db_ro
        self.cursors = cursors
        self.passwords = passwords
        self.connectors = connectors
        self.tenants = tenants
        self.logger = get_logger(type(self).__name__)

    async def _get_by_tenant_user_uuid(
        self, tenant_uuid: UUID, tenant_user_uuid: UUID, executor: Executor | None = None
    ) -> TenantUserRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {TENANT_USER_COLUMNS} FROM auth.tenant_users"
            " WHERE tenant_id = %s AND tenant_user_id = %s",
            (tenant_uuid, tenant_user_uuid),
            row=TenantUserRow,
        )

    async def with_tenant_user_by_tenant_user_id(
        self,
        tenant_id: str,
        tenant_user_id: str,
        fn: Callable[[TenantUserRow], Awaitable[T]],
        executor: Executor | None = None,
    ) -> T:
        row = await self._get_by_tenant_user_uuid(
            TenantIds.to_uuid(tenant_id),
            TenantUserIds.to_uuid(tenant_user_id, field="tenant_user_id"),
            executor,
        )
        if row is None:
            raise errors.tenant_user_not_found()
        return await fn(row)

    async def get_by_email(
        self, tenant_uuid: UUID, email: str, executor: Executor | None = None
    ) -> TenantUserRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {TENANT_USER_COLUMNS} FROM auth.tenant_users"
            " WHERE tenant_id = %s AND lower(email) = lower(%s)",
            (tenant_uuid, email),
            row=TenantUserRow,
        )

    async def tx_create_tenant_user(self, input: pb.CreateTenantUserInput) -> pb.TenantUser:
        """Create a user; the tenant's first one also gets its default password connector."""
        email = input.email.strip()
        display_name = input.display_name.strip()
        tenant_uuid = TenantIds.to_uuid(input.tenant_id, field="tenant_id")
        user_uuid = (
            TenantUserIds.to_uuid(input.tenant_user_id, field="tenant_user_id")
            if input.tenant_user_id
            else ULID().to_uuid()
        )
        if input.tenant_user_id and (
            existing := await self._get_by_tenant_user_uuid(tenant_uuid, user_uuid, self.db)
        ):
            # A retry of a create that went through: the same user, not a conflict.
            if existing.email.lower() == email.lower():
                return self.to_tenant_user(existing)
            raise errors.tenant_user_id_taken()
        if not await self.tenants.exists(input.tenant_id):
            raise errors.tenant_not_found()
        if input.password_hash:
            password_hash = input.password_hash
        else:
            connector = await self.connectors.get_password_connector(tenant_uuid, self.db)
            collect_violations(
                rules.password_violation(input.password, min_password_length(connector)), domain=errors.DOMAIN
            )
        if await self.get_by_email(tenant_uuid, email, self.db) is not None:
            raise errors.email_taken(email)
        if not input.password_hash:
            # Hashing takes tens of milliseconds: done before the transaction, not inside it.
            password_hash = await self.passwords.hash(input.password)
        try:
            async with self.db.transaction() as tx:
                await self.connectors.ensure_default_password_connector(tenant_uuid, tx)
                row = await tx.fetch_one(
                    "INSERT INTO auth.tenant_users"
                    " (tenant_user_id, tenant_id, email, display_name, role, password_hash)"
                    f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {TENANT_USER_COLUMNS}",
                    (user_uuid, tenant_uuid, email, display_name, input.role, password_hash),
                    row=TenantUserRow,
                )
        except pg_errors.UniqueViolation:
            raise errors.email_taken(email) from None
        assert row is not None
        self.logger.info("created tenant user %s", TenantUserIds.to_rich_id(row.tenant_user_id))
        return self.to_tenant_user(row)

    async def tx_offboard_tenant_user(self, tenant_id: str, tenant_user_id: str) -> None:
        """Remove a user, and every session of theirs with them, unless they are the tenant's last admin.

        The tenant's admins (and the user) are locked first, so that offboardings of admins run one
        after the other and each checks what the one before it left: two admins offboarding each
        other at once leave one. Sessions go by ON DELETE CASCADE, in the same transaction, so they
        all end at once.
        """
        tenant_uuid = TenantIds.to_uuid(tenant_id)
        user_uuid = TenantUserIds.to_uuid(tenant_user_id, field="tenant_user_id")
        async with self.db.transaction() as tx:
            locked = await tx.fetch_all(
                f"SELECT {TENANT_USER_COLUMNS} FROM auth.tenant_users"
                " WHERE tenant_id = %s AND (role = 'admin' OR tenant_user_id = %s)"
                " ORDER BY tenant_user_id FOR UPDATE",
                (tenant_uuid, user_uuid),
                row=TenantUserRow,
            )
            leaver = next((row for row in locked if row.tenant_user_id == user_uuid), None)
            if leaver is None:
                raise errors.tenant_user_not_found()
            other_admins = [row for row in locked if row.role == "admin" and row is not leaver]
            if leaver.role == "admin" and not other_admins:
                raise errors.last_admin()
            await self.delete_tenant_user(tenant_id, tenant_user_id, tx)

    async def delete_tenant_user(
        self, tenant_id: str, tenant_user_id: str, executor: Executor | None = None
    ) -> None:
        """Remove a user; their sessions go with them (ON DELETE CASCADE)."""
        deleted = await (executor or self.db).execute(
            "DELETE FROM auth.tenant_users WHERE tenant_id = %s AND tenant_user_id = %s",
            (TenantIds.to_uuid(tenant_id), TenantUserIds.to_uuid(tenant_user_id, field="tenant_user_id")),
        )
        if not deleted:
            raise errors.tenant_user_not_found()
        self.logger.info("deleted tenant user %s", tenant_user_id)

    async def list_tenant_users(
        self, tenant_id: str, page: Page[pb.ListTenantUsersInput], executor: Executor | None = None
    ) -> tuple[list[pb.TenantUser], str]:
        after = TenantUserIds.to_uuid(page.after, field="cursor") if page.after else None
        rows = await (executor or self.db_ro).fetch_all(
            sql.SQL(f"SELECT {TENANT_USER_COLUMNS} FROM auth.tenant_users WHERE tenant_id = %(tenant)s")
            + page.keyset("tenant_user_id"),
            {"tenant": TenantIds.to_uuid(tenant_id), **page.keyset_params(after)},
            row=TenantUserRow,
        )
        users = [self.to_tenant_user(row) for row in rows]
        next_cursor = self.cursors.next_cursor(page, [u.tenant_user_id for u in users])
        return users[: page.limit], next_cursor

    def to_tenant_user(self, row: TenantUserRow) -> pb.TenantUser:
        return _fill_tenant_user(pb.TenantUser(), row)

    def to_tenant_user_private(self, row: TenantUserRow) -> pb.TenantUserPrivate:
        user = _fill_tenant_user(pb.TenantUserPrivate(), row)
        if row.last_login_at is not None:
            user.last_login_at.FromDatetime(row.last_login_at)
        return user


UserT = TypeVar("UserT", pb.TenantUser, pb.TenantUserPrivate)


def _fill_tenant_user(user: UserT, row: TenantUserRow) -> UserT:
    """The fields every view of a tenant user shares."""
    user.tenant_user_id = TenantUserIds.to_rich_id(row.tenant_user_id)
    user.tenant_id = TenantIds.to_rich_id(row.tenant_id)
    user.email = row.email
    user.display_name = row.display_name
    user.role = row.role
    user.created_at.FromDatetime(row.created_at)
    return user
