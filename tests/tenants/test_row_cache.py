"""The tenants service's row cache: bounded, fail closed, and dropped on every replica by a write on any."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.errors import NotFoundError
from common.lists import Cursors
from services.tenants.ids import TenantIds
from services.tenants.row_cache import TenantChangeHub, TenantRowCache
from services.tenants.service import TenantService
from tests.support.domain import DomainServer
from tests.tenants.test_tenants_service import unique_slug


def row(name: str) -> tenants_pb2.TenantPublic:
    return tenants_pb2.TenantPublic(slug=name)


def test_an_untrusted_cache_answers_nothing_and_keeps_nothing() -> None:
    cache = TenantRowCache(10)
    key = uuid4()
    cache.put(key, row("a"), cache.generation)
    assert cache.get(key) is None and len(cache) == 0


def test_a_fill_that_raced_a_change_is_not_kept_and_a_lost_listener_empties_it() -> None:
    cache = TenantRowCache(10)
    cache.trust()
    key = uuid4()
    started = cache.generation
    cache.heard(str(key))
    cache.put(key, row("stale"), started)
    assert cache.get(key) is None
    cache.put(key, row("fresh"), cache.generation)
    assert cache.get(key) == row("fresh")
    cache.distrust()
    assert cache.get(key) is None and len(cache) == 0


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = TenantRowCache(2)
    cache.trust()
    a, b, c = uuid4(), uuid4(), uuid4()
    cache.put(a, row("a"), cache.generation)
    cache.put(b, row("b"), cache.generation)
    assert cache.get(a) is not None
    cache.put(c, row("c"), cache.generation)
    assert cache.get(b) is None and cache.get(a) is not None and len(cache) == 2


def test_an_unreadable_notification_drops_everything() -> None:
    cache = TenantRowCache(2)
    cache.trust()
    a = uuid4()
    cache.put(a, row("a"), cache.generation)
    cache.heard("not a uuid")
    assert cache.get(a) is None and cache.trusted


def test_a_slug_finds_only_a_kept_row_that_still_has_it() -> None:
    cache = TenantRowCache(2)
    cache.trust()
    a, b, c = uuid4(), uuid4(), uuid4()
    cache.put(a, row("a"), cache.generation)
    assert cache.get_by_slug("a") == row("a")
    cache.forget(a)
    assert cache.get_by_slug("a") is None
    # Renamed: the old slug leads nowhere, and a tenant that took it is not confused with a.
    cache.put(a, row("a2"), cache.generation)
    cache.put(b, row("a"), cache.generation)
    assert (
        cache.get_by_slug("a") == row("a")
        and cache.get(b) == row("a")
        and cache.get_by_slug("a2") == row("a2")
    )
    cache.forget(a)
    assert cache.get_by_slug("a") == row("a") and cache.get_by_slug("a2") is None
    # Evicted rows take their slugs along; so does a lost listener.
    cache.put(a, row("a2"), cache.generation)
    cache.put(c, row("c"), cache.generation)
    assert cache.get_by_slug("a") is None and cache.get(b) is None
    cache.distrust()
    assert cache.get_by_slug("c") is None
    cache.put(c, row("c"), cache.generation)
    assert cache.get_by_slug("c") is None


async def until_trusted(rows: TenantRowCache) -> None:
    while not rows.trusted:  # noqa: ASYNC110 - the listener has no event to wait on
        await asyncio.sleep(0.005)


async def test_a_rename_on_one_replica_is_seen_at_once_on_the_other(tenants_server: DomainServer) -> None:
    rows = TenantRowCache(100)
    # The other replica's row cache, told by the LISTEN its change hub holds.
    listener = TenantChangeHub(tenants_server.database_url, rows)
    pools = tenants_server.pools
    other = TenantService(pools.rw, pools.ro, Cursors(b"k" * 32), rows)
    this = tenants_pb2_grpc.TenantsServiceStub(tenants_server.channel)
    listener.start()
    try:
        await until_trusted(rows)
        tenant = (
            await this.CreateTenant(
                tenants_pb2.CreateTenantInput(slug=unique_slug(), display_name="Old"), timeout=5
            )
        ).tenant
        await other.get_tenant(TenantIds.ensure(tenant.tenant_id))
        assert len(rows) == 1
        update = tenants_pb2.UpdateTenantInput(tenant_id=tenant.tenant_id, display_name="New")
        await this.UpdateTenant(update, timeout=5)
        started = time.perf_counter()
        while (await other.get_tenant(TenantIds.ensure(tenant.tenant_id))).display_name != "New":
            assert time.perf_counter() - started < 1.0
            await asyncio.sleep(0.005)

        # By slug too: a rename elsewhere, and the old slug is gone here at once.
        assert (await other.get_by_slug(tenant.slug)).display_name == "New"
        renamed = unique_slug()
        await this.UpdateTenant(
            tenants_pb2.UpdateTenantInput(tenant_id=tenant.tenant_id, slug=renamed), timeout=5
        )
        started = time.perf_counter()
        while True:
            try:
                await other.get_by_slug(tenant.slug)
            except NotFoundError:
                break
            assert time.perf_counter() - started < 1.0
            await asyncio.sleep(0.005)
        assert (await other.get_by_slug(renamed)).tenant_id == tenant.tenant_id and len(rows) == 1

        await listener.close()
        assert not rows.trusted and len(rows) == 0
        await other.get_tenant(TenantIds.ensure(tenant.tenant_id))
        assert len(rows) == 0
    finally:
        await listener.close()
