"""The tenants service over real gRPC and PostgreSQL, on the database alone (no Temporal, no gateway)."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable
from functools import partial

import grpc
import psycopg
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from central.lists.v1 import lists_pb2
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from services.tenants.ids import TenantIds
from tests.support.domain import DomainServer
from tests.support.races import race


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def stub(tenants_server: DomainServer) -> tenants_pb2_grpc.TenantsServiceAsyncStub:
    return tenants_pb2_grpc.TenantsServiceStub(tenants_server.channel)


def error_info(error: grpc.aio.AioRpcError) -> tuple[error_details_pb2.ErrorInfo, list[str]]:
    """The ErrorInfo and the BadRequest fields of a failed call."""
    raw = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    assert isinstance(raw, bytes)
    status = status_pb2.Status.FromString(raw)
    info = error_details_pb2.ErrorInfo()
    fields: list[str] = []
    for detail in status.details:
        if detail.TypeName() == "google.rpc.ErrorInfo":
            detail.Unpack(info)
        elif detail.TypeName() == "google.rpc.BadRequest":
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return info, fields


async def create(
    tenants_server: DomainServer, slug: str, display_name: str = "Acme"
) -> tenants_pb2.TenantPublic:
    response = await stub(tenants_server).CreateTenant(
        tenants_pb2.CreateTenantInput(slug=slug, display_name=display_name), timeout=5
    )
    return response.tenant


async def test_create_then_get_by_id_and_slug(tenants_server: DomainServer) -> None:
    slug = unique_slug()
    created = await create(tenants_server, slug, "  Acme Inc.  ")
    assert TenantIds.guard(created.tenant_id)
    assert created.display_name == "Acme Inc."
    assert created.created_at.seconds > 0

    by_id = await stub(tenants_server).GetTenant(
        tenants_pb2.GetTenantInput(tenant_id=created.tenant_id), timeout=5
    )
    by_slug = await stub(tenants_server).GetTenantBySlug(
        tenants_pb2.GetTenantBySlugInput(slug=slug), timeout=5
    )
    assert by_id.tenant == created
    assert by_slug.tenant == created


async def test_taken_slug_is_already_exists_with_reason(tenants_server: DomainServer) -> None:
    slug = unique_slug()
    await create(tenants_server, slug)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(tenants_server, slug)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    info, _ = error_info(caught.value)
    assert (info.reason, info.domain) == ("TENANT_SLUG_TAKEN", "tenants.central")


@pytest.mark.parametrize(
    ("slug", "display_name", "bad_fields"),
    [
        ("ab", "Acme", ["slug"]),
        ("-acme", "Acme", ["slug"]),
        ("acme-", "Acme", ["slug"]),
        ("Acme", "Acme", ["slug"]),
        ("a" * 64, "Acme", ["slug"]),
        ("acme_inc", "Acme", ["slug"]),
        ("good-slug", "   ", ["display_name"]),
        ("good-slug", "x" * 201, ["display_name"]),
        ("-", "", ["slug", "display_name"]),
    ],
)
async def test_invalid_input_names_every_bad_field(
    tenants_server: DomainServer, slug: str, display_name: str, bad_fields: list[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(tenants_server, slug, display_name)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, fields = error_info(caught.value)
    assert fields == bad_fields


async def test_edge_lengths_are_accepted(tenants_server: DomainServer) -> None:
    # Each test session has a database of its own, so a short random slug is free.
    for slug in (f"a{secrets.token_hex(1)}", ("a" + secrets.token_hex(31))[:63]):
        tenant = await create(tenants_server, slug, "y" * 200)
        assert (len(tenant.slug), len(tenant.display_name)) == (len(slug), 200)


async def test_missing_tenant_is_not_found(tenants_server: DomainServer) -> None:
    for call in (
        stub(tenants_server).GetTenant(tenants_pb2.GetTenantInput(tenant_id=TenantIds.new()), timeout=5),
        stub(tenants_server).GetTenantBySlug(tenants_pb2.GetTenantBySlugInput(slug=unique_slug()), timeout=5),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_malformed_id_is_invalid_argument(tenants_server: DomainServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(tenants_server).GetTenant(tenants_pb2.GetTenantInput(tenant_id="tenant-nope"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value)[1] == ["tenant_id"]


async def outcome(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    """The status of a call, with its ErrorInfo reason when it failed."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code(), error_info(error)[0].reason
    return grpc.StatusCode.OK, ""


async def outcome_of_update(
    tenants_server: DomainServer, tenant_id: str, slug: str
) -> tuple[grpc.StatusCode, str]:
    return await outcome(
        stub(tenants_server).UpdateTenant(
            tenants_pb2.UpdateTenantInput(tenant_id=tenant_id, slug=slug), timeout=5
        )
    )


SLUG_TAKEN = (grpc.StatusCode.ALREADY_EXISTS, "TENANT_SLUG_TAKEN")


async def test_creates_of_one_slug_racing_past_the_check_give_one_success(
    tenants_server: DomainServer,
) -> None:
    # Every create finds the slug free before any of them writes: the unique constraint decides.
    slug = unique_slug("race")
    outcomes = await race(
        tenants_server.database_url, "tenants.tenants", [lambda: outcome(create(tenants_server, slug))] * 4
    )
    assert Counter(outcomes) == {(grpc.StatusCode.OK, ""): 1, SLUG_TAKEN: 3}


async def test_updates_to_one_slug_racing_past_the_check_give_one_success(
    tenants_server: DomainServer,
) -> None:
    tenants = [await create(tenants_server, unique_slug()) for _ in range(3)]
    slug = unique_slug("race")
    outcomes = await race(
        tenants_server.database_url,
        "tenants.tenants",
        [partial(outcome_of_update, tenants_server, tenant.tenant_id, slug) for tenant in tenants],
    )
    assert Counter(outcomes) == {(grpc.StatusCode.OK, ""): 1, SLUG_TAKEN: 2}
    owner = await stub(tenants_server).GetTenantBySlug(tenants_pb2.GetTenantBySlugInput(slug=slug), timeout=5)
    assert owner.tenant.tenant_id in {t.tenant_id for t in tenants}


async def test_update_sets_only_the_fields_given(tenants_server: DomainServer) -> None:
    tenant = await create(tenants_server, unique_slug(), "Before")
    renamed = await stub(tenants_server).UpdateTenant(
        tenants_pb2.UpdateTenantInput(tenant_id=tenant.tenant_id, display_name=" After "), timeout=5
    )
    assert (renamed.tenant.slug, renamed.tenant.display_name) == (tenant.slug, "After")

    new_slug = unique_slug()
    moved = await stub(tenants_server).UpdateTenant(
        tenants_pb2.UpdateTenantInput(tenant_id=tenant.tenant_id, slug=new_slug), timeout=5
    )
    assert (moved.tenant.slug, moved.tenant.display_name) == (new_slug, "After")

    unchanged = await stub(tenants_server).UpdateTenant(
        tenants_pb2.UpdateTenantInput(tenant_id=tenant.tenant_id), timeout=5
    )
    assert unchanged.tenant == moved.tenant


async def test_update_checks_the_new_slug(tenants_server: DomainServer) -> None:
    first, second = await create(tenants_server, unique_slug()), await create(tenants_server, unique_slug())
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await stub(tenants_server).UpdateTenant(
            tenants_pb2.UpdateTenantInput(tenant_id=second.tenant_id, slug=first.slug), timeout=5
        )
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await stub(tenants_server).UpdateTenant(
            tenants_pb2.UpdateTenantInput(tenant_id=second.tenant_id, slug="X"), timeout=5
        )
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub(tenants_server).UpdateTenant(
            tenants_pb2.UpdateTenantInput(tenant_id=TenantIds.new(), display_name="x"), timeout=5
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    # Keeping one's own slug is no conflict.
    same = await stub(tenants_server).UpdateTenant(
        tenants_pb2.UpdateTenantInput(tenant_id=first.tenant_id, slug=first.slug), timeout=5
    )
    assert same.tenant.slug == first.slug


async def _list_all(
    tenants_server: DomainServer, order: lists_pb2.ListOrder.ValueType, limit: int
) -> list[str]:
    request = tenants_pb2.ListTenantsInputOrCursor(
        input=tenants_pb2.ListTenantsInput(limit=limit, order=order)
    )
    ids: list[str] = []
    while True:
        page = await stub(tenants_server).ListTenants(request, timeout=5)
        assert len(page.tenants) <= limit
        ids += [t.tenant_id for t in page.tenants]
        if not page.next_cursor:
            return ids
        request = tenants_pb2.ListTenantsInputOrCursor(cursor=page.next_cursor)


async def test_list_pages_by_keyset_in_both_orders(tenants_server: DomainServer) -> None:
    for _ in range(5):
        await create(tenants_server, unique_slug("list"))
    oldest_first = await _list_all(tenants_server, order=lists_pb2.LIST_ORDER_OLDEST_FIRST, limit=2)
    newest_first = await _list_all(tenants_server, order=lists_pb2.LIST_ORDER_NEWEST_FIRST, limit=3)
    assert len(oldest_first) >= 5
    assert len(set(oldest_first)) == len(oldest_first)
    assert oldest_first == sorted(oldest_first)
    assert newest_first == list(reversed(oldest_first))


async def test_list_refuses_a_tampered_cursor_and_a_bad_limit(tenants_server: DomainServer) -> None:
    await create(tenants_server, unique_slug("list"))
    await create(tenants_server, unique_slug("list"))
    first = await stub(tenants_server).ListTenants(
        tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=1)), timeout=5
    )
    assert first.next_cursor
    payload, _, mac = first.next_cursor.partition(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    for request in (
        tenants_pb2.ListTenantsInputOrCursor(cursor=tampered),
        tenants_pb2.ListTenantsInputOrCursor(cursor="garbage"),
        tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=0)),
        tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=201)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(tenants_server).ListTenants(request, timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_health_and_reflection(tenants_server: DomainServer) -> None:
    check = tenants_server.channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    for service in ("", "central.tenants.v1.TenantsService"):
        response = await check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING

    reflect = tenants_server.channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    call = reflect(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = set()
    async for reflected in call:
        names |= {s.name for s in reflected.list_services_response.service}
    assert {"central.tenants.v1.TenantsService", "grpc.health.v1.Health"} <= names


async def test_the_deadline_cancels_the_query_it_bounds(tenants_server: DomainServer) -> None:
    slug = unique_slug("slow")
    # The service reads the standby when there is one, which takes the lock as it replays it.
    reads_url = tenants_server.replica.url if tenants_server.replica else tenants_server.database_url
    async with (
        await psycopg.AsyncConnection.connect(tenants_server.database_url) as locker,
        await psycopg.AsyncConnection.connect(reads_url, autocommit=True) as reads,
        locker.transaction(),
    ):
        await locker.execute("LOCK TABLE tenants.tenants IN ACCESS EXCLUSIVE MODE")
        if tenants_server.replica:
            await tenants_server.replica.caught_up()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(tenants_server).GetTenantBySlug(
                tenants_pb2.GetTenantBySlugInput(slug=slug), timeout=0.3
            )
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # The service gave up on its query too: nothing is left waiting behind the lock.
        for _ in range(50):
            cursor = await reads.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()"
                " AND state = 'active'",
                ("%FROM tenants.tenants WHERE slug%",),
            )
            row = await cursor.fetchone()
            waiting = row[0] if row else None
            if waiting == 0:
                break
            await asyncio.sleep(0.05)
        assert waiting == 0
