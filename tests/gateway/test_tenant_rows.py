"""The gateway's tenant rows: trusted by the stream's marker, dropped by its changes, filled only by
an rpc that no change raced, answering only what the rpc would, and dropped by a write it serves."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest
from google.protobuf.message import Message

from central.tenants.v1 import tenants_pb2
from common.principal import Principal, PrincipalKind
from common.tenant_rows import TenantRows
from services.gateway.routes import Route, RouteTableError
from services.gateway.server import route_table
from services.gateway.tenant_rows import TENANT_ROWS, TenantRowAnswers, apply_change

TENANT = "tenant-01JD0000000000000000000000"
OTHER = "tenant-01JD0000000000000000000001"
ROW = tenants_pb2.TenantPublic(tenant_id=TENANT, slug="acme", display_name="Acme")
ROUTES = route_table().routes
MEMBER = Principal(PrincipalKind.USER, tenant_id=TENANT, tenant_user_id="u", role="member", session_id="s")
STRANGER = replace(MEMBER, tenant_id=OTHER)


def route(name: str) -> Route:
    return next(r for r in ROUTES if r.method.name == name)


class Rpc:
    """The tenants service as the gateway calls it: counts calls, answers `answer` (or raises)."""

    def __init__(self, answer: Message | Exception, during: object = None) -> None:
        self.answer = answer
        self.calls = 0
        self.during = during

    async def __call__(self) -> Message:
        self.calls += 1
        if callable(self.during):
            self.during()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def trusted_rows() -> TenantRows[str]:
    rows = TenantRows[str](10)
    apply_change(rows, tenants_pb2.WatchTenantChangesResponse(caught_up=True))
    return rows


def test_the_marker_trusts_a_change_drops_its_tenant_and_an_unknown_change_distrusts() -> None:
    rows = trusted_rows()
    assert rows.trusted
    rows.put(TENANT, ROW, rows.generation)
    apply_change(rows, tenants_pb2.WatchTenantChangesResponse(caught_up=True))  # a heartbeat keeps it
    assert rows.get(TENANT) == ROW
    apply_change(rows, tenants_pb2.WatchTenantChangesResponse(tenant_id=TENANT))
    assert rows.get(TENANT) is None and rows.get_by_slug("acme") is None
    apply_change(rows, tenants_pb2.WatchTenantChangesResponse())
    assert not rows.trusted


async def test_a_fill_is_kept_then_answers_without_the_rpc() -> None:
    answers = TenantRowAnswers(trusted_rows(), ROUTES)
    rpc = Rpc(tenants_pb2.GetTenantResponse(tenant=ROW))
    get = tenants_pb2.GetTenantInput(tenant_id=TENANT)
    for _ in range(3):
        response = await answers.call(route("GetTenant"), get, MEMBER, rpc)
        assert response == tenants_pb2.GetTenantResponse(tenant=ROW)
    by_slug = await answers.call(
        route("GetTenantBySlug"),
        tenants_pb2.GetTenantBySlugInput(slug="acme"),
        Principal(PrincipalKind.ANONYMOUS),
        rpc,
    )
    assert by_slug == tenants_pb2.GetTenantBySlugResponse(tenant=ROW)
    assert rpc.calls == 1


async def test_a_fill_raced_by_a_change_is_not_kept() -> None:
    rows = trusted_rows()
    answers = TenantRowAnswers(rows, ROUTES)
    change = tenants_pb2.WatchTenantChangesResponse(tenant_id=TENANT)
    rpc = Rpc(tenants_pb2.GetTenantResponse(tenant=ROW), during=lambda: apply_change(rows, change))
    await answers.call(route("GetTenant"), tenants_pb2.GetTenantInput(tenant_id=TENANT), MEMBER, rpc)
    assert len(rows) == 0


async def test_untrusted_rows_and_refused_callers_go_to_the_rpc() -> None:
    rows = trusted_rows()
    answers = TenantRowAnswers(rows, ROUTES)
    rpc = Rpc(tenants_pb2.GetTenantResponse(tenant=ROW))
    get = tenants_pb2.GetTenantInput(tenant_id=TENANT)
    await answers.call(route("GetTenant"), get, MEMBER, rpc)
    # Another tenant's user: the row is there, but the rpc words the refusal (NOT_FOUND).
    await answers.call(route("GetTenant"), get, STRANGER, rpc)
    assert rpc.calls == 2
    rows.distrust()
    await answers.call(route("GetTenant"), get, MEMBER, rpc)
    assert rpc.calls == 3 and len(rows) == 0


@pytest.mark.parametrize("fails", [False, True])
async def test_a_write_served_here_drops_its_tenant_before_it_answers(fails: bool) -> None:
    rows = trusted_rows()
    answers = TenantRowAnswers(rows, ROUTES)
    rows.put(TENANT, ROW, rows.generation)
    rows.put(OTHER, replace_slug(OTHER, "other"), rows.generation)
    error = grpc.aio.AioRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, grpc.aio.Metadata(), grpc.aio.Metadata())
    rpc = Rpc(error if fails else tenants_pb2.UpdateTenantResponse(tenant=ROW))
    update = tenants_pb2.UpdateTenantInput(tenant_id=TENANT, display_name="New")
    if fails:
        with pytest.raises(grpc.aio.AioRpcError):
            await answers.call(route("UpdateTenant"), update, MEMBER, rpc)
    else:
        await answers.call(route("UpdateTenant"), update, MEMBER, rpc)
    assert rows.get(TENANT) is None and rows.get(OTHER) is not None


def replace_slug(tenant_id: str, slug: str) -> tenants_pb2.TenantPublic:
    return tenants_pb2.TenantPublic(tenant_id=tenant_id, slug=slug)


def test_only_routes_that_answer_a_tenant_by_its_id_or_slug_may_be_answered_from_the_rows() -> None:
    assert {r.method.name for r in ROUTES if r.answered_from == TENANT_ROWS} == {
        "GetTenant",
        "GetTenantBySlug",
    }
    me = next(r for r in ROUTES if r.http_method == "GET" and r.service.name != "TenantsService")
    with pytest.raises(RouteTableError):
        TenantRowAnswers(trusted_rows(), [replace(me, answered_from=TENANT_ROWS)])
