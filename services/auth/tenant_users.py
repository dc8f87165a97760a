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
from common.display_names import stored_display_name
from common.errors import collect_violations
from common.lists import Cursors
from common.logs import get_logger
from common.principal import Principal
from common.roles import Role
from services.auth import errors, rules
from services.auth.auth_connectors import AuthConnectorService, min_password_length
from services.auth.db import TENANT_USER_COLUMNS, TenantUserRow
from services.auth.ids import TenantUserIds
from services.auth.passwords import Passwords
from services.auth.session_changes import announce
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

    async def get_tenant_user(self, tenant_id: str, tenant_user_id: str) -> pb.TenantUser:
        return await self.with_tenant_user_by_tenant_user_id(tenant_id, tenant_user_id, self._to_tenant_user)

    async def get_me(self, principal: Principal) -> pb.TenantUserPrivate:
        """The signed-in user as they see themselves, read from the primary: a fresh login shows."""
        return await self.with_tenant_user_by_tenant_user_id(
            principal.tenant_id, principal.tenant_user_id, self._to_tenant_user_private, self.db
        )

    async def tx_create_tenant_user(self, input: pb.CreateTenantUserInput) -> pb.TenantUser:
        """Create a user whose password is at least the tenant's password connector's minimum."""
        tenant_uuid = TenantIds.to_uuid(input.tenant_id, field="tenant_id")
        email = rules.entered_email(input.email)
        await self._ensure_tenant(input.tenant_id)
        connector = await self.connectors.get_password_connector(tenant_uuid, self.db)
        collect_violations(
            rules.password_violation(input.password, min_password_length(connector)), domain=errors.DOMAIN
        )
        await self._ensure_email_free(tenant_uuid, email)
        # Hashing takes tens of milliseconds: done before the transaction, not inside it.
        password_hash = await self.passwords.hash(input.password)
        return await self._tx_insert(
            ULID().to_uuid(), tenant_uuid, email, input.display_name, input.role, password_hash
        )

    async def tx_provision_tenant_user(self, input: pb.ProvisionTenantUserInput) -> pb.TenantUser:
        """Create a user with the ID and hash the caller chose; a retry finds the user it made."""
        tenant_uuid = TenantIds.to_uuid(input.tenant_id, field="tenant_id")
        user_uuid = TenantUserIds.to_uuid(input.tenant_user_id, field="tenant_user_id")
        email = rules.entered_email(input.email)
        if existing := await self._get_by_tenant_user_uuid(tenant_uuid, user_uuid, self.db):
            # A retry of a create that went through: the same user, not a conflict.
            if existing.email.lower() == email.lower():
                return self.to_tenant_user(existing)
            raise errors.tenant_user_id_taken()
        if not self.passwords.within_our_parameters(input.password_hash):
            raise errors.password_hash_refused()
        await self._ensure_tenant(input.tenant_id)
        await self._ensure_email_free(tenant_uuid, email)
        return await self._tx_insert(
            user_uuid, tenant_uuid, email, input.display_name, input.role, input.password_hash
        )

    async def _ensure_tenant(self, tenant_id: str) -> None:
        if not await self.tenants.exists(tenant_id):
            raise errors.tenant_not_found()

    async def _ensure_email_free(self, tenant_uuid: UUID, email: str) -> None:
        if await self.get_by_email(tenant_uuid, email, self.db) is not None:
            raise errors.email_taken(email)

    async def _tx_insert(
        self, user_uuid: UUID, tenant_uuid: UUID, email: str, display_name: str, role: str, password_hash: str
    ) -> pb.TenantUser:
        """Insert the user; the tenant's first one also gets its default password connector."""
        try:
            async with self.db.transaction() as tx:
                await self.connectors.ensure_default_password_connector(tenant_uuid, tx)
                row = await tx.fetch_one(
                    "INSERT INTO auth.tenant_users"
                    " (tenant_user_id, tenant_id, email, display_name, role, password_hash)"
                    f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {TENANT_USER_COLUMNS}",
                    (user_uuid, tenant_uuid, email, stored_display_name(display_name), role, password_hash),
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
                " WHERE tenant_id = %s AND (role = %s OR tenant_user_id = %s)"
                " ORDER BY tenant_user_id FOR UPDATE",
                (tenant_uuid, Role.ADMIN.value, user_uuid),
                row=TenantUserRow,
            )
            leaver = next((row for row in locked if row.tenant_user_id == user_uuid), None)
            if leaver is None:
                raise errors.tenant_user_not_found()
            other_admins = [row for row in locked if row.role == Role.ADMIN and row is not leaver]
            if leaver.role == Role.ADMIN and not other_admins:
                raise errors.last_admin()
            await self.delete_tenant_user(tenant_id, tenant_user_id, tx)

    async def delete_tenant_user(
        self, tenant_id: str, tenant_user_id: str, executor: Executor | None = None
    ) -> None:
        """Remove a user; their sessions go with them (ON DELETE CASCADE), announced in one transaction."""
        if executor is None:
            async with self.db.transaction() as tx:
                await self.delete_tenant_user(tenant_id, tenant_user_id, tx)
            return
        deleted = await executor.execute(
            "DELETE FROM auth.tenant_users WHERE tenant_id = %s AND tenant_user_id = %s",
            (TenantIds.to_uuid(tenant_id), TenantUserIds.to_uuid(tenant_user_id, field="tenant_user_id")),
        )
        if not deleted:
            raise errors.tenant_user_not_found()
        await announce(executor, "tenant_user_id", tenant_user_id)
        self.logger.info("deleted tenant user %s", tenant_user_id)

    async def list_tenant_users(
        self, request: pb.ListTenantUsersInputOrCursor, executor: Executor | None = None
    ) -> pb.ListTenantUsersResponse:
        """One page of the tenant's users, oldest first unless the input orders otherwise."""
        tenant_id = request.tenant_id
        page = self.cursors.start(request, pb.ListTenantUsersInput)
        after = TenantUserIds.to_uuid(page.after, field="cursor") if page.after else None
        rows = await (executor or self.db_ro).fetch_all(
            sql.SQL(f"SELECT {TENANT_USER_COLUMNS} FROM auth.tenant_users WHERE tenant_id = %(tenant)s")
            + page.keyset("tenant_user_id"),
            {"tenant": TenantIds.to_uuid(tenant_id), **page.keyset_params(after)},
            row=TenantUserRow,
        )
        users = [self.to_tenant_user(row) for row in rows]
        users, next_cursor = self.cursors.page_end(page, users, lambda u: u.tenant_user_id)
        return pb.ListTenantUsersResponse(tenant_users=users, next_cursor=next_cursor)

    async def _to_tenant_user(self, row: TenantUserRow) -> pb.TenantUser:
        return self.to_tenant_user(row)

    async def _to_tenant_user_private(self, row: TenantUserRow) -> pb.TenantUserPrivate:
        return self.to_tenant_user_private(row)

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
