"""JSON to protobuf and back, with protobuf's JSON mapping plus the house conventions.

In: the body (for `body: "*"`), path variables and query parameters merge into one input
message; a `"kind"` beside a oneof member is checked and dropped. Query parameters name
fields in JSON or proto spelling; a name that is no field of the input resolves into the
message member of its `kind` oneof, so `?limit=10` fills `ListXInputOrCursor.input.limit`.
A list query sent again beside its cursor is folded into the cursor (`CursorResumer.resume`).
Errors name fields as the caller wrote them, never protobuf's message types.

Out: every DTO object gains `"__type": "<MessageName>"` and every set oneof `"kind"`.
DTOs are Central's own messages other than `...Response` wrappers and inputs.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, cast

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common.lists import CursorResumer
from services.gateway.routes import Route

_NOT_DTO_SUFFIXES = ("Response", "Input", "InputOrCursor")


class TranscodeError(ValueError):
    """The request cannot become the rpc's input; a 400 for the caller."""


def decode_input(
    route: Route,
    path_variables: dict[str, str],
    query: list[tuple[str, str]],
    body: bytes,
    cursors: CursorResumer,
) -> Message:
    descriptor = route.input_descriptor
    data: dict[str, Any] = {}
    if route.body:
        parsed = _parse_json_object(body)
        if route.body == "*":
            data = parsed
        else:
            data[route.body] = parsed
    elif _parse_json_object(body):
        raise TranscodeError(
            f"{route.http_method} {route.template.template} takes no body (send none, or {{}})"
        )
    for field_path, value in path_variables.items():
        _put(data, descriptor, field_path.split("."), value, repeated_ok=False)
    if query:
        if route.body == "*":
            raise TranscodeError("this route takes its input in the body, not in query parameters")
        for name, value in query:
            _put_query_value(data, descriptor, name, value)
    _drop_annotations(data, descriptor)
    if route.list_input_type is not None and data.get("cursor") == "":
        # An empty cursor asks for the first page (AIP-158), as `nextCursor` is empty on the last.
        del data["cursor"]
    if route.list_input_type is not None and "input" in data and "cursor" in data:
        # The oneof holds one of them: the query sent again goes into the cursor it continues.
        resent = route.list_input_type()
        _parse(data.pop("input"), resent, hidden_prefix="")
        data["cursor"] = cursors.resume(data["cursor"], resent)
    message = route.input_type()
    # Query parameters of a list fill its `input` member unnamed: errors name them as sent.
    _parse(data, message, hidden_prefix=route.hidden_field_prefix)
    return message


def encode_output(message: Message, omit: frozenset[str] = frozenset()) -> bytes:
    """JSON of `message`; `omit` names top-level fields (JSON names) kept out of the body."""
    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    for name in omit:
        data.pop(name, None)
    _annotate(message, data)
    return orjson.dumps(data)


def _parse_json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise TranscodeError(f"malformed JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise TranscodeError("the body must be a JSON object")
    _refuse_nulls(parsed, "")
    return parsed


def _refuse_nulls(value: Any, path: str) -> None:
    """No field is nullable: protobuf's JSON reading would take a null for "not sent", unseen."""
    if isinstance(value, dict):
        children = [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        return
    for child_path, child in children:
        if child is None:
            raise TranscodeError(f"field {child_path!r} may not be null: leave it out instead")
        _refuse_nulls(child, child_path)


def _parse(data: Any, message: Message, *, hidden_prefix: str) -> None:
    try:
        json_format.ParseDict(data, message)
    except json_format.ParseError as error:
        descriptor = cast(Descriptor, message.DESCRIPTOR)
        raise TranscodeError(_describe_parse_error(str(error), descriptor, hidden_prefix)) from None


# json_format's messages name message types ("central.auth.v1.X") and Python internals;
# callers get the field as they wrote it and what is wrong with it, nothing more.
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]*)" at "([^"]*)"')
_TWO_MEMBERS = re.compile(r'should not have multiple "[^"]*" oneof fields at "([^"]*)"')
_BAD_VALUE = re.compile(r"Failed to parse ([^ ]+) field")
_BAD_VALUE_AT = re.compile(r" at [^ .]+\.([^ ]+?)\.?$")


def _describe_parse_error(text: str, descriptor: Descriptor, hidden_prefix: str) -> str:
    text = text.split("\n", 1)[0].strip()
    if found := _UNKNOWN_FIELD.search(text):
        name, at = found.groups()
        return f"unknown field {_field_path(at, name, hidden_prefix)!r}"
    if found := _TWO_MEMBERS.search(text):
        at = found.group(1)
        members = _oneof_members(descriptor, _field_path(at, "", "").split("."))
        return f"set only one of: {', '.join(members)}" if members else "set only one member of a kind"
    if found := _BAD_VALUE.search(text):
        at = _BAD_VALUE_AT.search(text)
        path = at.group(1) if at else found.group(1)
        path = path.removeprefix(hidden_prefix)
        problem = "is out of range" if "out of range" in text else "has a value of the wrong type or form"
        return f"field {path!r} {problem}"
    return "the input does not fit this route"


def _field_path(at: str, name: str, hidden_prefix: str) -> str:
    """`at` is "MessageName.a.b": the path below the message, then `name`, without the hidden prefix."""
    parts = [*at.split(".")[1:], *([name] if name else [])]
    return ".".join(parts).removeprefix(hidden_prefix)


def _oneof_members(descriptor: Descriptor, path: list[str]) -> list[str]:
    """JSON names of the `kind` members of the message at `path` below `descriptor`."""
    for part in filter(None, path):
        field = _fields_by_any_name(descriptor).get(part)
        if field is None or field.message_type is None:
            return []
        descriptor = field.message_type
    oneof = descriptor.oneofs_by_name.get("kind")
    return [member.json_name for member in oneof.fields] if oneof is not None else []


@cache
def _fields_by_any_name(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    fields: dict[str, FieldDescriptor] = {}
    for field in descriptor.fields:
        fields[field.name] = field
        fields[field.json_name] = field
    return fields


def _put_query_value(data: dict[str, Any], descriptor: Descriptor, name: str, value: str) -> None:
    parts = name.split(".")
    fields = _fields_by_any_name(descriptor)
    if parts[0] not in fields and "kind" in descriptor.oneofs_by_name:
        for member in descriptor.oneofs_by_name["kind"].fields:
            if member.message_type is not None and parts[0] in _fields_by_any_name(member.message_type):
                parts = [member.name, *parts]
                break
    _put(data, descriptor, parts, value, repeated_ok=True)


def _put(
    data: dict[str, Any], descriptor: Descriptor, parts: list[str], value: str, *, repeated_ok: bool
) -> None:
    field = _fields_by_any_name(descriptor).get(parts[0])
    if field is None:
        raise TranscodeError(f"unknown parameter {'.'.join(parts)!r}")
    if len(parts) > 1:
        if field.message_type is None or _is_repeated(field):
            raise TranscodeError(f"unknown parameter {'.'.join(parts)!r}")
        nested = data.setdefault(field.name, {})
        if not isinstance(nested, dict):
            raise TranscodeError(f"parameter {'.'.join(parts)!r} conflicts with the body")
        _put(nested, field.message_type, parts[1:], value, repeated_ok=repeated_ok)
        return
    if field.message_type is not None and field.message_type.full_name not in _SCALAR_LIKE_MESSAGES:
        raise TranscodeError(f"parameter {field.name!r} is an object; send it in the body")
    converted = _scalar(field, value)
    if _is_repeated(field):
        if not repeated_ok:
            raise TranscodeError(f"path variable {field.name!r} cannot be a list")
        data.setdefault(field.name, []).append(converted)
    elif not repeated_ok:
        # A path variable wins over the same field in the body, as in grpc-gateway.
        data.pop(field.json_name, None)
        data[field.name] = converted
    else:
        if field.name in data:
            raise TranscodeError(f"parameter {field.name!r} is given twice")
        data[field.name] = converted


_SCALAR_LIKE_MESSAGES = {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _scalar(field: FieldDescriptor, value: str) -> Any:
    if field.type == FieldDescriptor.TYPE_BOOL:
        if value not in ("true", "false"):
            raise TranscodeError(f"parameter {field.name!r} must be true or false")
        return value == "true"
    # The JSON mapping accepts numbers and timestamps written as strings.
    return value


def _drop_annotations(data: dict[str, Any], descriptor: Descriptor) -> None:
    """Check and remove what the gateway writes beside fields, in every nested object too:
    a DTO's `__type` (a client may send back what it read) and the `kind` of a oneof's member.
    Enum values must be their names, as the document lists them: protobuf's JSON reading
    would also take their numbers."""
    if "__type" in data and "__type" not in _fields_by_any_name(descriptor):
        expected = dto_name(descriptor)
        if expected is None or data["__type"] != expected:
            raise TranscodeError(
                f"__type must be {expected!r} here" if expected else "unknown field '__type'"
            )
        del data["__type"]
    oneof = descriptor.oneofs_by_name.get("kind")
    if oneof is not None and "kind" not in _fields_by_any_name(descriptor) and "kind" in data:
        kind = data.pop("kind")
        members = {m.name: m for m in oneof.fields} | {m.json_name: m for m in oneof.fields}
        member = members.get(kind) if isinstance(kind, str) else None
        if member is None:
            raise TranscodeError(f"kind must be one of: {', '.join(m.name for m in oneof.fields)}")
        present = [m for m in oneof.fields if m.name in data or m.json_name in data]
        if present and present != [member]:
            raise TranscodeError(f"kind is {kind!r} but the object sets {present[0].name!r}")
        if not present and member.message_type is not None:
            data[member.name] = {}
    fields = _fields_by_any_name(descriptor)
    for key, value in data.items():
        field = fields.get(key)
        if field is None or (field.message_type is None and field.enum_type is None):
            continue
        for item in value if isinstance(value, list) else [value]:
            if field.enum_type is not None and (
                not isinstance(item, str) or item not in field.enum_type.values_by_name
            ):
                names = ", ".join(field.enum_type.values_by_name)
                raise TranscodeError(f"field {key!r} must be one of: {names}")
            if field.message_type is not None and isinstance(item, dict):
                _drop_annotations(item, field.message_type)


@cache
def dto_name(descriptor: Descriptor) -> str | None:
    if not descriptor.full_name.startswith("central.") or descriptor.name.endswith(_NOT_DTO_SUFFIXES):
        return None
    return descriptor.name


def _annotate(message: Message, data: dict[str, Any]) -> None:
    descriptor = message.DESCRIPTOR
    if (name := dto_name(descriptor)) is not None:
        data["__type"] = name
    if "kind" in descriptor.oneofs_by_name and (member := message.WhichOneof("kind")) is not None:
        data["kind"] = member
    for field, value in message.ListFields():
        if field.message_type is None or field.json_name not in data:
            continue
        if _is_repeated(field):
            if field.message_type.GetOptions().map_entry:
                continue
            for item, item_data in zip(value, data[field.json_name], strict=True):
                if isinstance(item_data, dict):
                    _annotate(item, item_data)
        elif isinstance(data[field.json_name], dict):
            _annotate(value, data[field.json_name])
