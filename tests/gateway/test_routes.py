"""The route table: what annotations make routes, and which the gateway refuses at start-up."""

from __future__ import annotations

import pytest
from google.api import http_pb2

from central.api.v1 import options_pb2
from services.gateway.path_template import MalformedPathError, PathTemplate, TemplateError, path_segments
from services.gateway.routes import Match, RouteTable, RouteTableError
from tests.support import fake_service
from tests.support.fake_service import COOKIE, PUBLIC


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
    special = table.match("GET", b"/things/special")
    assert special.route is not None and special.route.method.name == "CreateThing"
    other = table.match("GET", b"/things/other")
    assert other.route is not None and other.route.method.name == "GetThing"
    assert other.variables == {"name": "other"}
    assert table.match("POST", b"/things/other") == Match(None, {}, ("GET", "HEAD"))
    assert table.match("GET", b"/elsewhere") == Match(None, {}, ())


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


def _match(template: str, raw_path: bytes) -> dict[str, str] | None:
    return PathTemplate.parse(template).match(path_segments(raw_path))


def test_path_templates() -> None:
    template = PathTemplate.parse("/tenants/{tenant_id}/files/{path=**}")
    assert template.match(path_segments(b"/tenants/t1/files/a/b%20c")) == {"tenant_id": "t1", "path": "a/b c"}
    assert template.match(path_segments(b"/tenants/t1/files")) is None
    assert template.openapi_path({"tenant_id": "tenantId"}) == "/tenants/{tenantId}/files/{path}"
    assert _match("/a/{b=*}", b"/a/x") == {"b": "x"}
    assert _match("/a/{b}", b"/a/x/y") is None
    assert _match("/a/{b}", b"/a/") is None
    assert _match("/a/{b}", b"/a") is None
    assert _match("/a/b", b"/a/b/") is None


@pytest.mark.parametrize(
    ("raw_path", "value"),
    [
        (b"/a/acme%2561", "acme%61"),  # decoded once: %25 is "%", never "a" after a second pass
        (b"/a/acme%61", "acmea"),
        (b"/a/x%2Fy", "x/y"),  # an encoded slash is part of the value, not a separator
        (b"/a/caf%C3%A9", "caf\u00e9"),
        (b"/a/t%0A", "t\n"),
        (b"/a/a+b", "a+b"),  # `+` is a space only in query strings
    ],
)
def test_a_path_variable_is_percent_decoded_exactly_once(raw_path: bytes, value: str) -> None:
    assert _match("/a/{b}", raw_path) == {"b": value}


def test_literal_segments_match_their_decoded_spelling() -> None:
    assert _match("/meta/liveness-probe", b"/meta/liveness%2Dprobe") == {}
    assert _match("/meta/liveness-probe", b"/meta/liveness%252Dprobe") is None


@pytest.mark.parametrize("raw_path", [b"/a/%FF", b"/a/%C3", b"a/b"])
def test_a_path_that_is_no_percent_encoded_utf8_is_malformed(raw_path: bytes) -> None:
    with pytest.raises(MalformedPathError):
        path_segments(raw_path)


def test_head_is_served_by_the_get_route_and_named_in_allow() -> None:
    service = fake_service.build(
        {
            "GetThing": (http_pb2.HttpRule(get="/things/{name}"), PUBLIC),
            "CreateThing": (http_pb2.HttpRule(post="/things", body="*"), PUBLIC),
        }
    )
    table = RouteTable.from_services([service])
    head = table.match("HEAD", b"/things/x")
    assert head.route is not None and head.route.method.name == "GetThing"
    assert head.variables == {"name": "x"}
    assert table.match("DELETE", b"/things/x") == Match(None, {}, ("GET", "HEAD"))
    assert table.match("HEAD", b"/things") == Match(None, {}, ("POST",))


def test_a_list_route_knows_the_query_a_client_may_send_again_beside_its_cursor() -> None:
    service = fake_service.build(
        {
            "ListThings": (http_pb2.HttpRule(get="/things"), PUBLIC),
            "GetThing": (http_pb2.HttpRule(get="/things/{name}"), PUBLIC),
        }
    )
    routes = {route.method.name: route for route in RouteTable.from_services([service]).routes}
    list_input_type = routes["ListThings"].list_input_type
    assert list_input_type is not None and list_input_type.DESCRIPTOR.name == "ListThingsInput"
    assert routes["GetThing"].list_input_type is None


@pytest.mark.parametrize(
    "template", ["", "/", "things", "/a/{b=**}/c", "/a/{B}", "/a/{b=c/*}", "/a/{b=**}:c", "/a/b:"]
)
def test_unsupported_templates_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        PathTemplate.parse(template)


def test_a_custom_method_never_matches_a_plain_resource_template() -> None:
    resource = PathTemplate.parse("/jobs/{job_id}")
    cancel = PathTemplate.parse("/jobs/{job_id}:cancel")
    assert resource.match(path_segments(b"/jobs/job-1:cancel")) is None
    assert cancel.match(path_segments(b"/jobs/job-1:cancel")) == {"job_id": "job-1"}
    assert resource.match(path_segments(b"/jobs/job-1")) == {"job_id": "job-1"}


def _linear_match(table: RouteTable, http_method: str, raw_path: bytes) -> Match:
    """What `match` answered before it narrowed the routes it tries: every route, in order."""
    segments = path_segments(raw_path)
    wanted = "GET" if http_method == "HEAD" else http_method
    allowed: list[str] = []
    for route in table.routes:
        variables = route.template.match(segments)
        if variables is not None:
            if route.http_method == wanted:
                return Match(route, variables)
            allowed.append(route.http_method)
    return Match(None, {}, (*allowed, "HEAD") if "GET" in allowed else tuple(allowed))


def test_the_narrowed_match_answers_as_trying_every_route() -> None:
    service = fake_service.build(
        {
            "GetThing": (http_pb2.HttpRule(get="/things/{name}"), PUBLIC),
            "GetSpecial": (http_pb2.HttpRule(get="/things/special"), PUBLIC),
            "DeleteThing": (http_pb2.HttpRule(delete="/things/{name}"), PUBLIC),
            "CancelThing": (http_pb2.HttpRule(post="/things/{name}:cancel"), PUBLIC),
            "Ping": (http_pb2.HttpRule(post="/ping:run"), PUBLIC),
            "GetPart": (http_pb2.HttpRule(get="/{tenant_id}/parts/{name}"), PUBLIC),
            "GetFile": (http_pb2.HttpRule(get="/files/{name=**}"), PUBLIC),
        }
    )
    table = RouteTable.from_services([service])
    paths = [
        b"/", b"/things", b"/things/", b"/things/a", b"/things/special", b"/things/a:cancel",
        b"/things/a/b", b"/ping:run", b"/ping", b"/shelf/parts/p", b"/things/parts/p",
        b"/files/a", b"/files/a/b/c", b"/files", b"/other/a", b"/a/b/c/d/e/f/g/h",
    ]  # fmt: skip
    for path in paths:
        for method in ("GET", "HEAD", "POST", "DELETE"):
            assert table.match(method, path) == _linear_match(table, method, path), (method, path)
