"""The OpenAPI 3.1 document, generated from the same route table and descriptors as the routes."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from central.api.v1 import options_pb2
from services.gateway.routes import Route, RouteTable, gateway_only_fields
from services.gateway.transcode import dto_name

COOKIE_SCHEME = "TenantUserCookie"
_SCHEME_NAMES = {options_pb2.SECURITY_SCHEME_TENANT_USER_COOKIE: COOKIE_SCHEME}
_INT64 = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}
_NUMBER = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
_WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?\d+(\.\d+)?s$"},
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Google's API error model (AIP-193).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "status", "message"],
            "properties": {
                "code": {"type": "integer", "description": "The HTTP status."},
                "status": {"type": "string", "description": "The google.rpc.Code name."},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["@type"],
                        "properties": {"@type": {"type": "string"}},
                    },
                },
            },
        }
    },
}


class _Schemas:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}

    def ref(self, descriptor: Descriptor) -> dict[str, Any]:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder, so recursive messages terminate
            self.schemas[name] = self._object(descriptor)
        return {"$ref": f"#/components/schemas/{name}"}

    def _object(self, descriptor: Descriptor) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        if (dto := dto_name(descriptor)) is not None:
            properties["__type"] = {"const": dto}
            required.append("__type")
        oneof = descriptor.oneofs_by_name.get("kind")
        if oneof is not None:
            properties["kind"] = {"type": "string", "enum": [m.name for m in oneof.fields]}
        hidden = gateway_only_fields(descriptor)
        for field in descriptor.fields:
            if field.json_name not in hidden:
                properties[field.json_name] = self.field(field)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None:
            single = self.ref(field.message_type)
        elif field.enum_type is not None:
            single = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        elif field.type == FieldDescriptor.TYPE_BOOL:
            single = {"type": "boolean"}
        elif field.type == FieldDescriptor.TYPE_STRING:
            single = {"type": "string"}
        elif field.type == FieldDescriptor.TYPE_BYTES:
            single = {"type": "string", "contentEncoding": "base64"}
        elif field.type in _INT64:
            single = {"type": "string", "format": "int64"}
        elif field.type in _NUMBER:
            single = {"type": "number"}
        else:
            single = {"type": "integer"}
        if field.is_repeated:
            return {"type": "array", "items": single}
        return single


def _query_fields(descriptor: Descriptor, taken: set[str]) -> list[FieldDescriptor]:
    """The input fields a GET or DELETE takes as query parameters (see transcode)."""
    fields = [f for f in descriptor.fields if f.name not in taken and f.message_type is None]
    oneof = descriptor.oneofs_by_name.get("kind")
    for member in oneof.fields if oneof else []:
        if member.message_type is not None:
            fields.extend(f for f in member.message_type.fields if f.message_type is None)
    return fields


def _operation(route: Route, schemas: _Schemas) -> dict[str, Any]:
    descriptor = route.input_descriptor
    json_names = {f.name: f.json_name for f in descriptor.fields}
    path_fields = {v.field_path for v in route.template.variables}
    parameters: list[dict[str, Any]] = [
        {"name": json_names.get(p, p), "in": "path", "required": True, "schema": {"type": "string"}}
        for p in sorted(path_fields)
    ]
    operation: dict[str, Any] = {
        "operationId": route.method.name,
        "tags": [route.tag],
        # An empty requirement object in the list makes the cookie optional.
        "security": [{_SCHEME_NAMES[s]: []} for s in route.security]
        + ([{}] if route.security_optional else []),
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": schemas.ref(route.method.output_type)}},
            },
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if route.body:
        body_descriptor: Descriptor | None = descriptor
        if route.body != "*":
            body_descriptor = descriptor.fields_by_name[route.body].message_type
        assert body_descriptor is not None, "the route table accepts only message fields as a body"
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(body_descriptor)}},
        }
    else:
        parameters += [
            {"name": f.json_name, "in": "query", "required": False, "schema": schemas.field(f)}
            for f in _query_fields(descriptor, path_fields)
        ]
    if parameters:
        operation["parameters"] = parameters
    return operation


def build_document(routes: RouteTable, version: str) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes.routes, key=lambda r: r.template.template):
        json_names = {f.name: f.json_name for f in route.input_descriptor.fields}
        path = route.template.openapi_path(json_names)
        paths.setdefault(path, {})[route.http_method.lower()] = _operation(route, schemas)
    tags = sorted({r.tag for r in routes.routes})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Central", "version": version},
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.schemas.items())),
            "securitySchemes": {
                COOKIE_SCHEME: {"type": "apiKey", "in": "cookie", "name": "__Host-central-session"},
            },
        },
    }
