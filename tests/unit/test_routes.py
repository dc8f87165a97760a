"""The route table: what annotations make routes, and which the gateway refuses at start-up."""

from __future__ import annotations

import pytest
from google.api import http_pb2

from central.api.v1 import options_pb2
from services.gateway.path_template import PathTemplate, TemplateError
from services.gateway.routes import RouteTable, RouteTableError
from tests.unit import fake_service
from tests.unit.fake_service import COOKIE, PUBLIC


def test_annotated_rpcs_become_routes_and_the_others_stay_grpc_only() -> None:
    service = fake_service.build(
        {
            "GetThing": (http_pb2.HttpRule(get="/things/{name}"), COOKIE),
            "CreateThing": (None, None),
        }
    )
    table = RouteTable.from_services([service])
    assert [(r.http_method, r.template.template, r.method.name) for r in table.routes] == [
        ("GET", "/things/{name}", "GetThing")
    ]
    assert table.routes[0].security == (options_pb2.SECURITY_SCHEME_TENANT_USER_COOKIE,)
    assert not table.routes[0].is_public


def test_literal_segments_win_over_variables() -> None:
    service = fake_service.build(
        {
            "GetThing": (http_pb2.HttpRule(get="/things/{name}"), PUBLIC),
            "CreateThing": (http_pb2.HttpRule(get="/things/special"), PUBLIC),
        }
    )
    table = RouteTable.from_services([service])
    route, variables = table.match("GET", "/things/special")
    assert route is not None and route.method.name == "CreateThing"
    route, variables = table.match("GET", "/things/other")
    assert route is not None and route.method.name == "GetThing"
    assert variables == {"name": "other"}
    assert table.match("POST", "/things/other") == (None, ["GET"])
    assert table.match("GET", "/elsewhere") == (None, [])


@pytest.mark.parametrize(
    ("rule", "route", "message"),
    [
        (http_pb2.HttpRule(get="/things/{name}"), None, "needs"),
        (http_pb2.HttpRule(get="/things/{name}"), options_pb2.RouteOptions(tag="things"), "security"),
        (
            http_pb2.HttpRule(get="/things/{name}"),
            options_pb2.RouteOptions(security=options_pb2.Security()),
            "tag",
        ),
        (http_pb2.HttpRule(get="/things/{nope}"), PUBLIC, "no field"),
        (http_pb2.HttpRule(get="/things", body="*"), PUBLIC, "no body"),
        (http_pb2.HttpRule(post="/things", body="nope"), PUBLIC, "no field"),
        (http_pb2.HttpRule(custom=http_pb2.CustomHttpPattern(kind="HEAD", path="/x")), PUBLIC, "unsupported"),
    ],
)
def test_unservable_annotations_fail_at_start_up(
    rule: http_pb2.HttpRule, route: options_pb2.RouteOptions | None, message: str
) -> None:
    service = fake_service.build({"GetThing": (rule, route)})
    with pytest.raises(RouteTableError, match=message):
        RouteTable.from_services([service])


def test_two_rpcs_on_one_route_fail_at_start_up() -> None:
    service = fake_service.build(
        {
            "GetThing": (http_pb2.HttpRule(get="/things/{name}"), PUBLIC),
            "CreateThing": (http_pb2.HttpRule(get="/things/{name}"), PUBLIC),
        }
    )
    with pytest.raises(RouteTableError, match="two rpcs"):
        RouteTable.from_services([service])


def test_path_templates() -> None:
    template = PathTemplate.parse("/tenants/{tenant_id}/files/{path=**}")
    assert template.match("/tenants/t1/files/a/b%20c") == {"tenant_id": "t1", "path": "a/b c"}
    assert template.match("/tenants/t1/files") is None
    assert template.openapi_path({"tenant_id": "tenantId"}) == "/tenants/{tenantId}/files/{path}"
    assert PathTemplate.parse("/a/{b=*}").match("/a/x") == {"b": "x"}
    assert PathTemplate.parse("/a/{b}").match("/a/x/y") is None


@pytest.mark.parametrize("template", ["", "/", "things", "/a/{b=**}/c", "/a/{B}", "/a/b:c", "/a/{b=c/*}"])
def test_unsupported_templates_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        PathTemplate.parse(template)
