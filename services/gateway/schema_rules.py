"""JSON Schema keywords read from the field rules of the protos (`buf.validate` annotations).

The guard of every service checks the same rules (common/grpc/input_rules.py), so the OpenAPI
document says exactly what the services enforce. A predefined rule of
central/api/v1/rules.proto is read through its CEL expression, which that file keeps to a
conjunction of `size(this) <= N`, `size(this) >= N` and `this.matches(r'...')`; anything else
fails the document's build, at start-up. One rule is no annotation and is added here: no
string may hold NUL (the guard refuses it everywhere).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor

NO_NUL = "^[^\\u0000]*$"
_BOUNDS = {
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
}
_NUMBER_KEYWORDS = {"gte": "minimum", "lte": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
_SIZE = re.compile(r"size\(this\) (?P<op><=|>=) (?P<n>\d+)")
_MATCHES = re.compile(r"this\.matches\(r'(?P<pattern>[^']*)'\)")
# RE2 spells a code point past U+00FF \x{HHHH}; ECMA-262 (JSON Schema) and Python \uHHHH.
_RE2_CODE_POINT = re.compile(r"\\x\{([0-9A-Fa-f]{4})\}")


def field_rules(field: FieldDescriptor) -> validate_pb2.FieldRules | None:
    options = field.GetOptions()
    if not options.HasExtension(validate_pb2.field):
        return None
    return options.Extensions[validate_pb2.field]


def is_required(field: FieldDescriptor) -> bool:
    rules = field_rules(field)
    return rules is not None and rules.required


def required_oneofs(descriptor: Descriptor) -> list[OneofDescriptor]:
    return [
        oneof
        for oneof in descriptor.oneofs
        if oneof.GetOptions().HasExtension(validate_pb2.oneof)
        and oneof.GetOptions().Extensions[validate_pb2.oneof].required
    ]


def constrain(field: FieldDescriptor, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (one value of `field`) with the keywords of the field's rules."""
    rules = field_rules(field)
    constrained = dict(schema)
    if field.type == FieldDescriptor.TYPE_STRING:
        constrained.update(_string_keywords(rules.string if rules else None, required=is_required(field)))
    elif field.type == FieldDescriptor.TYPE_BYTES and is_required(field):
        # Base64 in JSON: required bytes are at least one byte, so at least one character.
        constrained["minLength"] = 1
    elif field.type in _BOUNDS:
        constrained.update(_integer_keywords(field, rules))
    if rules is not None and rules.ignore == validate_pb2.IGNORE_IF_ZERO_VALUE and constrained != schema:
        # The rules hold only when the field is set: its zero value is also accepted.
        zero = field.default_value if field.enum_type is None else field.enum_type.values[0].name
        return {"anyOf": [{"const": zero}, constrained]}
    return constrained


def constrain_items(field: FieldDescriptor, item: dict[str, Any]) -> dict[str, Any]:
    """The array schema of a repeated scalar `field`: its count and its items' rules."""
    schema: dict[str, Any] = {"type": "array", "items": dict(item)}
    rules = field_rules(field)
    if rules is None or not rules.HasField("repeated"):
        return schema
    repeated = rules.repeated
    if repeated.HasField("max_items"):
        schema["maxItems"] = repeated.max_items
    if repeated.HasField("min_items"):
        schema["minItems"] = repeated.min_items
    if field.type == FieldDescriptor.TYPE_STRING and repeated.items.HasField("string"):
        schema["items"].update(_string_keywords(repeated.items.string, required=False))
    return schema


def _string_keywords(rules: validate_pb2.StringRules | None, *, required: bool) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    if rules is not None:
        if rules.HasField("min_len"):
            keywords["minLength"] = rules.min_len
        if rules.HasField("max_len"):
            keywords["maxLength"] = rules.max_len
        if rules.HasField("pattern"):
            keywords["pattern"] = _ecma_pattern(rules.pattern)
        elif rules.HasField("prefix"):
            keywords["pattern"] = f"^{re.escape(rules.prefix)}[^\\u0000]*$"
        if getattr(rules, "in"):
            keywords["enum"] = list(getattr(rules, "in"))
        if rules.uri:
            keywords["format"] = "uri"
        if rules.hostname:
            keywords["format"] = "hostname"
            required = True
        for extension, value in rules.ListFields():
            if extension.is_extension and value:
                for name, keyword in _predefined_keywords(extension).items():
                    if name in keywords:
                        raise ValueError(f"{extension.full_name}: a field takes one {name}")
                    keywords[name] = keyword
    if required and keywords.get("minLength", 0) < 1 and "enum" not in keywords:
        keywords["minLength"] = 1
    if "enum" not in keywords:
        keywords.setdefault("pattern", NO_NUL)
    return keywords


@cache
def _predefined_keywords(extension: FieldDescriptor) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    for rule in extension.GetOptions().Extensions[validate_pb2.predefined].cel:
        for conjunct in rule.expression.split(" && "):
            if size := _SIZE.fullmatch(conjunct):
                keywords["maxLength" if size["op"] == "<=" else "minLength"] = int(size["n"])
            elif matches := _MATCHES.fullmatch(conjunct):
                keywords["pattern"] = _ecma_pattern(matches["pattern"])
            else:
                raise ValueError(f"{rule.id}: the OpenAPI document cannot read {conjunct!r}")
    return keywords


def _ecma_pattern(re2: str) -> str:
    pattern = _RE2_CODE_POINT.sub(r"\\u\1", re2)
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        # Python's `$` (schemathesis is Python) also matches before a final newline; RE2's does not.
        pattern = pattern[:-1] + "(?!\\n)$"
    re.compile(pattern)  # what JSON Schema tools (and schemathesis, in Python) will compile
    return pattern


def _integer_keywords(field: FieldDescriptor, rules: validate_pb2.FieldRules | None) -> dict[str, Any]:
    low, high = _BOUNDS[field.type]
    keywords: dict[str, Any] = {"minimum": low, "maximum": high}
    kind = rules.WhichOneof("type") if rules is not None else None
    if rules is not None and kind is not None:
        numeric = getattr(rules, kind)
        for name, keyword in _NUMBER_KEYWORDS.items():
            if numeric.HasField(name):
                keywords[keyword] = getattr(numeric, name)
        if "exclusiveMinimum" in keywords:
            del keywords["minimum"]
        if "exclusiveMaximum" in keywords:
            del keywords["maximum"]
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32):
        keywords["format"] = "int32"
    return keywords


def enum_schema(field: FieldDescriptor) -> dict[str, Any]:
    """An enum's names (the gateway takes no numbers), less those its `in` or `not_in` rules refuse."""
    assert field.enum_type is not None
    allowed = list(field.enum_type.values)
    rules = field_rules(field)
    if rules is not None and rules.HasField("enum"):
        if getattr(rules.enum, "in"):
            allowed = [v for v in allowed if v.number in getattr(rules.enum, "in")]
        allowed = [v for v in allowed if v.number not in rules.enum.not_in]
    return {"type": "string", "enum": [v.name for v in allowed]}


def field_groups(descriptor: Descriptor) -> list[tuple[list[FieldDescriptor], bool]]:
    """The `(buf.validate.message).oneof` rules: fields of which at most one is set, or exactly one."""
    options = descriptor.GetOptions()
    if not options.HasExtension(validate_pb2.message):
        return []
    return [
        ([descriptor.fields_by_name[name] for name in rule.fields], rule.required)
        for rule in options.Extensions[validate_pb2.message].oneof
    ]
