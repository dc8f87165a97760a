"""Transcoding of paths, bodies and query parameters, and the `__type` and `kind` conventions."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from google.api import http_pb2
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from common.errors import ValidationError
from common.lists import Cursors
from services.gateway.routes import Route, RouteTable
from services.gateway.transcode import TranscodeError, decode_input, encode_output
from tests.support import fake_service
from tests.support.fake_service import PUBLIC

SERVICE = fake_service.build(
    {
        "GetThing": (http_pb2.HttpRule(get="/tenants/{tenant_id}/things/{name}"), PUBLIC),
        "CreateThing": (http_pb2.HttpRule(post="/tenants/{tenant_id}/things", body="*"), PUBLIC),
        "RenameThing": (http_pb2.HttpRule(patch="/things/{name}", body="oidc"), PUBLIC),
        "ListThings": (http_pb2.HttpRule(get="/things"), PUBLIC),
    }
)
TABLE = RouteTable.from_services([SERVICE])
CURSORS = Cursors(b"k" * 32)


def route(method: str, path: str) -> tuple[Route, dict[str, str]]:
    found = TABLE.match(method, path.encode())
    assert found.route is not None
    return found.route, found.variables


def decode(
    method: str, path: str, query: list[tuple[str, str]] | None = None, body: Any = None
) -> dict[str, Any]:
    found, variables = route(method, path)
    raw = b"" if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
    return MessageToDict(
        decode_input(found, variables, query or [], raw, CURSORS), preserving_proto_field_name=True
    )


def test_path_variables_fill_fields() -> None:
    assert decode("GET", "/tenants/tenant-1/things/a%2Fb") == {"tenant_id": "tenant-1", "name": "a/b"}


def test_body_star_takes_the_whole_input_in_json_names() -> None:
    body = {"name": "n", "count": "12", "password": {"minLength": 14}}
    assert decode("POST", "/tenants/t1/things", body=body) == {
        "tenant_id": "t1",
        "name": "n",
        "count": "12",
        "password": {"min_length": 14},
    }


def test_path_variables_win_over_the_body() -> None:
    assert decode("POST", "/tenants/t1/things", body={"tenantId": "t2"})["tenant_id"] == "t1"


def test_body_naming_one_field_fills_that_field() -> None:
    decoded = decode("PATCH", "/things/x", body={"issuer": "https://id.example", "clientId": "c"})
    assert decoded == {"name": "x", "oidc": {"issuer": "https://id.example", "client_id": "c"}}


def test_kind_is_accepted_beside_its_member_and_may_stand_alone() -> None:
    with_member = decode("POST", "/tenants/t/things", body={"kind": "password", "password": {"minLength": 3}})
    assert with_member["password"] == {"min_length": 3}
    alone = decode_input(*route("POST", "/tenants/t/things"), [], orjson.dumps({"kind": "oidc"}), CURSORS)
    assert alone.WhichOneof("kind") == "oidc"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "password", "oidc": {"issuer": "x"}},
        {"kind": "ldap"},
        {"kind": 3},
        {"password": {}, "oidc": {}},
    ],
)
def test_inconsistent_kind_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(TranscodeError):
        decode("POST", "/tenants/t/things", body=body)


def test_query_parameters_fill_the_list_input_behind_the_kind_oneof() -> None:
    query = [("limit", "10"), ("name", "x"), ("manyTags", "a"), ("many_tags", "b"), ("archived", "true")]
    assert decode("GET", "/things", query) == {
        "input": {"limit": 10, "name": "x", "many_tags": ["a", "b"], "archived": True}
    }
    assert decode("GET", "/things", [("cursor", "abc")]) == {"cursor": "abc"}


@pytest.mark.parametrize(
    "query",
    [
        [("limit", "ten")],
        [("limit", "-1")],
        [("archived", "yes")],
        [("nope", "1")],
        [("limit", "1"), ("limit", "2")],
        [("input", "x")],
    ],
)
def test_bad_query_parameters_are_refused(query: list[tuple[str, str]]) -> None:
    with pytest.raises(TranscodeError):
        decode("GET", "/things", query)


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'"x"', b'{"unknown": 1}', b'{"count": "many"}', b'{"name": 5}', b'{"__type": "X"}'],
)
def test_bad_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(TranscodeError):
        decode("POST", "/tenants/t/things", body=body)


def test_query_parameters_are_refused_on_a_body_star_route() -> None:
    with pytest.raises(TranscodeError):
        decode("POST", "/tenants/t/things", [("name", "x")], body={})


def test_output_marks_dtos_with_type_and_oneofs_with_kind() -> None:
    found, _ = route("GET", "/tenants/t/things/n")
    response: Any = found.output_type()
    response.thing.thing_id = "thing-1"
    response.thing.oidc.issuer = "https://id.example"
    listed = response.many_things.add()
    listed.password.min_length = 12
    assert orjson.loads(encode_output(response)) == {
        "thing": {
            "__type": "Thing",
            "kind": "oidc",
            "thingId": "thing-1",
            "enabled": False,
            "oidc": {"__type": "Oidc", "issuer": "https://id.example", "clientId": ""},
        },
        "manyThings": [
            {
                "__type": "Thing",
                "kind": "password",
                "thingId": "",
                "enabled": False,
                "password": {"__type": "Password", "minLength": 12},
            }
        ],
        "nextCursor": "",
    }


def _list_input(**fields: Any) -> Message:
    found, _ = route("GET", "/things")
    assert found.list_input_type is not None
    return found.list_input_type(**fields)


def test_a_query_sent_again_beside_its_cursor_folds_into_the_cursor() -> None:
    cursor = CURSORS.encode(_list_input(limit=2, name="x"), "last")
    decoded = decode("GET", "/things", [("limit", "1"), ("name", "x"), ("cursor", cursor)])
    assert set(decoded) == {"cursor"}
    resumed, last_key = CURSORS.decode(decoded["cursor"], type(_list_input()))
    assert (resumed, last_key) == (_list_input(limit=1, name="x"), "last")


def test_a_query_that_differs_from_its_cursor_is_refused_in_public_terms() -> None:
    cursor = CURSORS.encode(_list_input(limit=2, name="x"), "last")
    with pytest.raises(ValidationError) as caught:
        decode("GET", "/things", [("limit", "1"), ("name", "y"), ("cursor", cursor)])
    assert [v.field for v in caught.value.violations] == ["name"]
    assert "oneof" not in caught.value.message
    with pytest.raises(ValidationError) as caught:
        decode("GET", "/things", [("cursor", "abc"), ("limit", "2")])
    assert caught.value.reason == "INVALID_CURSOR"


@pytest.mark.parametrize("body", [b"", b"{}", b" { } ", b"\n"])
def test_a_route_without_a_body_takes_an_empty_body_and_an_empty_object_alike(body: bytes) -> None:
    assert decode("GET", "/tenants/t/things/n", body=body) == {"tenant_id": "t", "name": "n"}


@pytest.mark.parametrize("body", [b'{"name": "x"}', b"[]", b"{"])
def test_a_route_without_a_body_refuses_any_other(body: bytes) -> None:
    with pytest.raises(TranscodeError):
        decode("GET", "/tenants/t/things/n", body=body)


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "names"),
    [
        ("POST", "/tenants/t/things", None, {"password": {}, "oidc": {}}, ["password", "oidc"]),
        ("POST", "/tenants/t/things", None, {"unknown": 1}, ["unknown"]),
        ("POST", "/tenants/t/things", None, {"password": {"nope": 1}}, ["password.nope"]),
        ("POST", "/tenants/t/things", None, {"count": "many"}, ["count"]),
        ("POST", "/tenants/t/things", None, {"name": 5}, ["name"]),
        ("POST", "/tenants/t/things", None, {"name": ["a"]}, ["name"]),
        ("POST", "/tenants/t/things", None, {"password": {"minLength": 1.5}}, ["password.minLength"]),
        ("POST", "/tenants/t/things", None, {"password": {"minLength": -1}}, ["minLength"]),
        ("GET", "/things", [("limit", "ten")], None, ["limit"]),
        ("GET", "/things", [("limit", "99999999999")], None, ["limit"]),
    ],
)
def test_errors_name_fields_as_sent_and_never_protobuf_internals(
    method: str, path: str, query: list[tuple[str, str]] | None, body: Any, names: list[str]
) -> None:
    with pytest.raises(TranscodeError) as caught:
        decode(method, path, query, body=body)
    message = str(caught.value)
    for name in names:
        assert repr(name) in message or f" {name}" in message, message
    for internal in ("central.", "Input", "Thing", "oneof", "int()", "literal", "'int'", "\n"):
        assert internal not in message, message


def test_an_empty_cursor_asks_for_the_first_page() -> None:
    assert decode("GET", "/things", [("cursor", ""), ("limit", "3")]) == {"input": {"limit": 3}}
    assert decode("GET", "/things", [("cursor", "")]) == {}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": None}, "name"),
        ({"password": {"minLength": None}}, "password.minLength"),
        ({"name": "x", "oidc": {"issuer": None}}, "oidc.issuer"),
    ],
)
def test_null_is_refused_naming_the_field(body: dict[str, Any], path: str) -> None:
    with pytest.raises(TranscodeError, match=f"'{path}' may not be null"):
        decode("POST", "/tenants/t/things", body=body)


def test_a_dto_sent_back_with_its_type_is_taken_and_a_wrong_type_is_refused() -> None:
    body = {"password": {"__type": "Password", "minLength": 3}}
    assert decode("POST", "/tenants/t/things", body=body)["password"] == {"min_length": 3}
    for wrong in ({"password": {"__type": "Oidc"}}, {"__type": "CreateThingInput"}):
        with pytest.raises(TranscodeError, match="__type"):
            decode("POST", "/tenants/t/things", body=wrong)


def test_enum_values_are_their_names() -> None:
    assert decode("GET", "/things", [("colour", "COLOUR_RED")]) == {"input": {"colour": "COLOUR_RED"}}
    body = {"manyColours": ["COLOUR_RED", "COLOUR_BLUE"]}
    assert decode("POST", "/tenants/t/things", body=body)["many_colours"] == ["COLOUR_RED", "COLOUR_BLUE"]


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ([("colour", "1")], None),
        ([("colour", "0")], None),
        ([("colour", "COLOUR_GREEN")], None),
        (None, {"manyColours": [1]}),
        (None, {"manyColours": ["COLOUR_RED", {"a": 1}]}),
    ],
)
def test_enum_numbers_and_unknown_names_are_refused(
    query: list[tuple[str, str]] | None, body: dict[str, Any] | None
) -> None:
    method, path = ("GET", "/things") if query else ("POST", "/tenants/t/things")
    with pytest.raises(TranscodeError, match="must be one of: COLOUR_UNSPECIFIED, COLOUR_RED, COLOUR_BLUE"):
        decode(method, path, query, body=body)
