"""The tenants domain: rules and storage of tenants, spoken in rich IDs and DTOs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql
from ulid import ULID

from central.tenants.v1 import tenants_pb2
from common.db.executor import Database, Executor
from common.display_names import stored_display_name
from common.errors import ConflictError, NotFoundError
from common.lists import Cursors
from common.logs import get_logger
from services.tenants.db import COLUMNS, TenantRow
from services.tenants.ids import TenantId, TenantIds
from services.tenants.row_cache import TenantRowCache, announce

DOMAIN = "tenants.central"
T = TypeVar("T")


class TenantService:
    def __init__(
        self, db: Database, db_ro: Database, cursors: Cursors, rows: TenantRowCache | None = None
    ) -> None:
        self.db = db
        self.db_ro = db_ro
        self.cursors = cursors
        # Untrusted (so never answering) unless a listener keeps it: see services/tenants/row_cache.py.
        self.rows = rows if rows is not None else TenantRowCache(max_entries=1)
        self.logger = get_logger(type(self).__name__)

    async def _get_by_tenant_uuid(
        self, tenant_uuid: UUID, executor: Executor | None = None
    ) -> TenantRow | None:
        return await (executor or self.db_ro).fetch_one(
            f"SELECT {COLUMNS} FROM tenants.tenants WHERE tenant_id = %s", (tenant_uuid,), row=TenantRow
        )

    async def get_by_tenant_id(
        self, tenant_id: TenantId, executor: Executor | None = None
    ) -> tenants_pb2.TenantPublic | None:
        tenant_uuid = TenantIds.to_uuid(tenant_id)
        if executor is not None:
            row = await self._get_by_tenant_uuid(tenant_uuid, executor)
            return self._to_public_tenant(row) if row else None
        if (cached := self.rows.get(tenant_uuid)) is not None:
            return cached
        generation = self.rows.generation
        # Filled from the primary: a lagging replica could put back a row a change just dropped.
        row = await self._get_by_tenant_uuid(tenant_uuid, self.db if self.rows.trusted else None)
        if row is None:
            return None
        tenant = self._to_public_tenant(row)
        self.rows.put(tenant_uuid, tenant, generation)
        return tenant

    async def with_tenant_by_tenant_id(
        self,
        tenant_id: TenantId,
        fn: Callable[[tenants_pb2.TenantPublic], Awaitable[T]],
        executor: Executor | None = None,
    ) -> T:
        tenant = await self.get_by_tenant_id(tenant_id, executor)
        if tenant is None:
            raise tenant_not_found()
        return await fn(tenant)

    async def get_tenant(
        self, tenant_id: TenantId, executor: Executor | None = None
    ) -> tenants_pb2.TenantPublic:
        return await self.with_tenant_by_tenant_id(tenant_id, _as_is, executor)

    async def get_by_slug(self, slug: str, executor: Executor | None = None) -> tenants_pb2.TenantPublic:
        if executor is None and (cached := self.rows.get_by_slug(slug)) is not None:
            return cached
        generation = self.rows.generation
        # As for get_by_tenant_id: a fill the cache keeps is read from the primary.
        filling = executor is None and self.rows.trusted
        row = await (executor or (self.db if filling else self.db_ro)).fetch_one(
            f"SELECT {COLUMNS} FROM tenants.tenants WHERE slug = %s", (slug,), row=TenantRow
        )
        if row is None:
            raise tenant_not_found()
        tenant = self._to_public_tenant(row)
        if filling:
            self.rows.put(row.tenant_id, tenant, generation)
        return tenant

    async def create_tenant(
        self, input: tenants_pb2.CreateTenantInput, executor: Executor | None = None
    ) -> tenants_pb2.TenantPublic:
        display_name = stored_display_name(input.display_name)
        executor = executor or self.db
        tenant_uuid = TenantIds.to_uuid(input.tenant_id) if input.tenant_id else ULID().to_uuid()
        if input.tenant_id and (existing := await self._get_by_tenant_uuid(tenant_uuid, executor)):
            # A retry of a create that went through: the same tenant, not a second one.
            if existing.slug == input.slug:
                return self._to_public_tenant(existing)
            raise ConflictError("that tenant ID is taken", reason="TENANT_ID_TAKEN", domain=DOMAIN)
        await self._ensure_slug_free(input.slug, executor)
        try:
            row = await executor.fetch_one(
                f"INSERT INTO tenants.tenants (tenant_id, slug, display_name) VALUES (%s, %s, %s)"
                f" RETURNING {COLUMNS}",
                (tenant_uuid, input.slug, display_name),
                row=TenantRow,
            )
        except pg_errors.UniqueViolation:
            # Lost a race with a create of the same slug (or ID) after our check.
            raise _slug_taken(input.slug) from None
        assert row is not None
        self.logger.info("created tenant %s", TenantIds.to_rich_id(row.tenant_id))
        return self._to_public_tenant(row)

    async def update_tenant(
        self, input: tenants_pb2.UpdateTenantInput, executor: Executor | None = None
    ) -> tenants_pb2.TenantPublic:
        tenant_uuid = TenantIds.to_uuid(input.tenant_id)
        changes: dict[str, str] = {}
        if input.HasField("slug"):
            changes["slug"] = input.slug
        if input.HasField("display_name"):
            changes["display_name"] = stored_display_name(input.display_name)
        if executor is None:
            async with self.db.transaction() as tx:
                updated = await self.update_tenant(input, tx)
            # Again once committed: a fill that raced the transaction may have kept the old row.
            self.rows.forget(tenant_uuid)
            return updated
        if not changes:
            current = await self._get_by_tenant_uuid(tenant_uuid, executor)
            if current is None:
                raise tenant_not_found()
            return self._to_public_tenant(current)
        if "slug" in changes:
            await self._ensure_slug_free(changes["slug"], executor, except_uuid=tenant_uuid)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in changes
        )
        query = sql.SQL(
            "UPDATE tenants.tenants SET {assignments}, updated_at = now() WHERE tenant_id = {tenant_id}"
            " RETURNING {columns}"
        ).format(
            assignments=assignments,
            tenant_id=sql.Placeholder("tenant_id"),
            columns=sql.SQL(COLUMNS),
        )
        try:
            row = await executor.fetch_one(query, {**changes, "tenant_id": tenant_uuid}, row=TenantRow)
        except pg_errors.UniqueViolation:
            raise _slug_taken(changes["slug"]) from None
        if row is None:
            raise tenant_not_found()
        await announce(executor, tenant_uuid)
        self.rows.forget(tenant_uuid)
        return self._to_public_tenant(row)

    async def delete_tenant(self, tenant_id: TenantId, executor: Executor | None = None) -> None:
        if executor is None:
            async with self.db.transaction() as tx:
                await self.delete_tenant(tenant_id, tx)
            # Again once committed: a fill that raced the transaction may have kept the old row.
            self.rows.forget(TenantIds.to_uuid(tenant_id))
            return
        tenant_uuid = TenantIds.to_uuid(tenant_id)
        deleted = await executor.execute("DELETE FROM tenants.tenants WHERE tenant_id = %s", (tenant_uuid,))
        if not deleted:
            raise tenant_not_found()
        await announce(executor, tenant_uuid)
        self.rows.forget(tenant_uuid)
        self.logger.info("deleted tenant %s", tenant_id)

    async def list_tenants(
        self, request: tenants_pb2.ListTenantsInputOrCursor, executor: Executor | None = None
    ) -> tenants_pb2.ListTenantsResponse:
        page = self.cursors.start(request, tenants_pb2.ListTenantsInput)
        after = TenantIds.to_uuid(page.after, field="cursor") if page.after else None
        rows = await (executor or self.db_ro).fetch_all(
            sql.SQL(f"SELECT {COLUMNS} FROM tenants.tenants WHERE TRUE") + page.keyset("tenant_id"),
            page.keyset_params(after),
            row=TenantRow,
        )
        tenants = [self._to_public_tenant(row) for row in rows]
        tenants, next_cursor = self.cursors.page_end(page, tenants, lambda t: t.tenant_id)
        return tenants_pb2.ListTenantsResponse(tenants=tenants, next_cursor=next_cursor)

    async def _ensure_slug_free(self, slug: str, executor: Executor, except_uuid: UUID | None = None) -> None:
        taken = await executor.fetch_one(
            "SELECT tenant_id FROM tenants.tenants WHERE slug = %s", (slug,), row=_TenantUuid
        )
        if taken is not None and taken.tenant_id != except_uuid:
            raise _slug_taken(slug)

    def _to_public_tenant(self, row: TenantRow) -> tenants_pb2.TenantPublic:
        tenant = tenants_pb2.TenantPublic(
            tenant_id=TenantIds.to_rich_id(row.tenant_id), slug=row.slug, display_name=row.display_name
        )
        tenant.created_at.FromDatetime(row.created_at)
        return tenant


async def _as_is(tenant: tenants_pb2.TenantPublic) -> tenants_pb2.TenantPublic:
    return tenant


class _TenantUuid:
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id


def _slug_taken(slug: str) -> ConflictError:
    return ConflictError(
        f"a tenant with slug '{slug}' already exists", reason="TENANT_SLUG_TAKEN", domain=DOMAIN
    )


def tenant_not_found() -> NotFoundError:
    return NotFoundError("tenant not found", reason="TENANT_NOT_FOUND", domain=DOMAIN)
