"""The rules every rpc input is checked against before its handler runs.

Field rules are declared once, in the protos (`buf.validate` annotations and the predefined
rules of central/api/v1/rules.proto), and checked here by protovalidate; the OpenAPI
document reads the same annotations. One rule is no annotation: no string field of any
input may hold NUL, which PostgreSQL cannot store in text. It belongs to the storage, not
to a field, so it is checked by walking every string of the input instead of being
repeated on every field, where the next field would forget it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import cast

import protovalidate
from buf.validate import validate_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common.errors import FieldViolation, ValidationError

# One validator for the process: it compiles each message type's rules once and keeps them.
_validator = protovalidate.Validator()
_NUL_REFUSED = "must not contain NUL characters"


def violations(message: Message) -> list[FieldViolation]:
    """Every field of `message` that breaks a rule, once each."""
    descriptor = cast(Descriptor, message.DESCRIPTOR)
    found = [_field_violation(v, descriptor) for v in _validator.collect_violations(message)]
    named = {v.field for v in found}
    return found + [FieldViolation(f, _NUL_REFUSED) for f in _nul_fields(message, "") if f not in named]


def check_input(message: Message) -> None:
    """Raise one ValidationError naming every field of `message` that breaks a rule."""
    if found := violations(message):
        raise ValidationError(found)


def prepare(descriptor: Descriptor) -> None:
    """Compile the rules of an input type now, at start-up: a bad rule fails here, not per call."""
    check_rules = message_factory.GetMessageClass(descriptor)()
    _validator.collect_violations(check_rules)
    _string_fields(descriptor)


def _field_violation(violation: protovalidate.Violation, descriptor: Descriptor) -> FieldViolation:
    proto = violation.proto
    path = ".".join(_element(e) for e in proto.field.elements) if proto.field else ""
    # protovalidate says "value is required"; the field name already says which value.
    description = proto.message.removeprefix("value ")
    return FieldViolation(path or _group_field(descriptor, description), description)


def _group_field(descriptor: Descriptor, description: str) -> str:
    """A violation of the message itself names no field: a `(buf.validate.message).oneof` group's
    ("one of password, password_hash must be set") is told as its first field's, the one callers send."""
    options = descriptor.GetOptions()
    if options.HasExtension(validate_pb2.message):
        for group in options.Extensions[validate_pb2.message].oneof:
            if group.fields and all(name in description for name in group.fields):
                return str(group.fields[0])
    return "input"


def _element(element: protovalidate.FieldPathElementPb) -> str:
    subscript = element.subscript
    if subscript is None:
        return element.field_name
    return f"{element.field_name}[{subscript.value!r}]"


def _nul_fields(message: Message, prefix: str) -> Iterator[str]:
    for field, kind in _string_fields(message.DESCRIPTOR):
        value = getattr(message, field.name)
        path = f"{prefix}{field.name}"
        if kind == "string":
            if "\x00" in value:
                yield path
        elif kind == "strings":
            yield from (f"{path}[{i}]" for i, item in enumerate(value) if "\x00" in item)
        elif kind == "map":
            yield from (f"{path}[{k!r}]" for k, v in value.items() if _has_nul(k) or _has_nul(v))
        elif kind == "message":
            if message.HasField(field.name):
                yield from _nul_fields(value, f"{path}.")
        else:
            for i, item in enumerate(value):
                yield from _nul_fields(item, f"{path}[{i}].")


def _has_nul(value: object) -> bool:
    return isinstance(value, str) and "\x00" in value


@cache
def _string_fields(descriptor: Descriptor) -> tuple[tuple[FieldDescriptor, str], ...]:
    """The fields of `descriptor` that hold strings, directly or in messages: what the NUL walk reads."""
    found: list[tuple[FieldDescriptor, str]] = []
    for field in descriptor.fields:
        repeated = field.is_repeated
        if field.type == FieldDescriptor.TYPE_STRING:
            found.append((field, "strings" if repeated else "string"))
        elif field.message_type is None:
            continue
        elif field.message_type.GetOptions().map_entry:
            if any(f.type == FieldDescriptor.TYPE_STRING for f in field.message_type.fields):
                found.append((field, "map"))
        elif _holds_strings(field.message_type, frozenset()):
            found.append((field, "messages" if repeated else "message"))
    return tuple(found)


def _holds_strings(descriptor: Descriptor, seen: frozenset[str]) -> bool:
    if descriptor.full_name in seen:
        return False
    seen = seen | {descriptor.full_name}
    return any(
        field.type == FieldDescriptor.TYPE_STRING
        or (field.message_type is not None and _holds_strings(field.message_type, seen))
        for field in descriptor.fields
    )
