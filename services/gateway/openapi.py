"""The OpenAPI 3.1 document, generated from the same route table and descriptors as the routes.

Field rules (lengths, patterns, enums, ranges, required fields) come from the protos'
`buf.validate` annotations, which the services check (services/gateway/schema_rules.py).
Who may call an operation comes from its rpc's `central.api.v1.access`, which the guard
enforces: `x-central-access` names it and the description says it in a sentence. The cookie
is named as configured (CENTRAL_SESSION_COOKIE_NAME).
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor

from central.api.v1 import options_pb2
from common.grpc.access import Access
from services.gateway import schema_rules
from services.gateway.routes import Route, RouteTable, gateway_only_fields, marked_field
from services.gateway.security import PreLoginCookie
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


# Who may call an operation, in a sentence, for each access level a route may have.
_WHO_MAY_CALL: dict[Access, tuple[str, str]] = {
    options_pb2.ACCESS_PUBLIC: ("public", "Anyone may call it, signed in or not."),
    options_pb2.ACCESS_TENANT_USER: ("tenant-user", "A signed-in tenant user, on what is their own."),
    options_pb2.ACCESS_TENANT_MEMBER: (
        "tenant-member",
        "Any signed-in user of the tenant in the path; to a user of another tenant the tenant is not found.",
    ),
    options_pb2.ACCESS_TENANT_ADMIN: (
        "tenant-admin",
        "An admin of the tenant in the path; its other members get 403, users of another tenant 404.",
    ),
}


class _Schemas:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
        self._omitted: dict[str, frozenset[str]] = {}

    def ref(self, descriptor: Descriptor, omit: frozenset[str] = frozenset()) -> dict[str, Any]:
        """A reference to the schema of `descriptor`, less the fields named in `omit` (proto names)."""
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.schemas:
            self._omitted[name] = omit
            self.schemas[name] = {}  # placeholder, so recursive messages terminate
            self.schemas[name] = self._object(descriptor, omit)
        elif self._omitted.get(name, omit) != omit:
            raise ValueError(f"{name} is the body of routes that bind different path fields")
        return {"$ref": f"#/components/schemas/{name}"}

    def _object(self, descriptor: Descriptor, omit: frozenset[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        if (dto := dto_name(descriptor)) is not None:
            properties["__type"] = {"const": dto}
            required.append("__type")
        kind = descriptor.oneofs_by_name.get("kind")
        if kind is not None:
            properties["kind"] = {"type": "string", "enum": [m.name for m in kind.fields]}
        hidden = gateway_only_fields(descriptor)
        for field in _body_fields(descriptor, omit):
            if field.json_name not in hidden:
                properties[field.json_name] = self.field(field)
                if schema_rules.is_required(field):
                    required.append(field.json_name)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        groups = [_kind_rule(descriptor, kind)] if kind is not None else []
        groups += [_one_of(fields, required=r) for fields, r in schema_rules.field_groups(descriptor)]
        if len(groups) == 1:
            schema.update(groups[0])
        elif groups:
            schema["allOf"] = groups
        return schema

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None:
            single = self.ref(field.message_type)
        elif field.enum_type is not None:
            single = schema_rules.enum_schema(field)
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
            return schema_rules.constrain_items(field, single)
        return single if field.message_type is not None else schema_rules.constrain(field, single)


def _is_set(field: FieldDescriptor) -> dict[str, Any]:
    """A field that protobuf counts as set: present in the JSON, and not "" if a string."""
    if field.type == FieldDescriptor.TYPE_STRING and not field.has_presence:
        return {"required": [field.json_name], "properties": {field.json_name: {"minLength": 1}}}
    return {"required": [field.json_name]}


def _one_of(fields: list[FieldDescriptor], *, required: bool) -> dict[str, Any]:
    """Exactly one of `fields` set, or (unless `required`) none of them."""
    branches = [_is_set(f) for f in fields]
    if not required:
        branches.append({"not": {"anyOf": [_is_set(f) for f in fields]}})
    return {"oneOf": branches}


def _kind_rule(descriptor: Descriptor, kind: OneofDescriptor) -> dict[str, Any]:
    """The `kind` oneof: `"kind"` names the member that is set (see transcode)."""
    required = kind in schema_rules.required_oneofs(descriptor)
    branches: list[dict[str, Any]] = [
        {
            "required": [m.json_name],
            "properties": {"kind": {"const": m.name}},
            "not": {"anyOf": [{"required": [o.json_name]} for o in kind.fields if o is not m]},
        }
        for m in kind.fields
    ]
    if not required:
        unset = [{"required": [m.json_name]} for m in kind.fields] + [{"required": ["kind"]}]
        branches.append({"not": {"anyOf": unset}})
    return {"oneOf": branches}


def _body_fields(descriptor: Descriptor, omit: frozenset[str]) -> list[FieldDescriptor]:
    return [f for f in descriptor.fields if f.name not in omit]


def _body_required(descriptor: Descriptor, omit: frozenset[str]) -> bool:
    """Whether a body must be sent at all: only when it has a field the rules require."""
    fields = _body_fields(descriptor, omit)
    return (
        any(schema_rules.is_required(f) for f in fields)
        or bool(schema_rules.required_oneofs(descriptor))
        or any(required for _, required in schema_rules.field_groups(descriptor))
    )


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _cookie_header(route: Route, cookie_name: str) -> dict[str, Any]:
    if route.session_token_field is not None:
        description = f"Sets the session cookie {cookie_name} (HttpOnly, Secure, SameSite=Lax)."
    elif route.ends_session_field is not None:
        description = f"Clears the session cookie {cookie_name} when the caller's own session ended."
    elif marked_field(route.method.output_type, options_pb2.pre_login_token) is not None:
        description = f"Sets the single sign-on pre-login cookie {PreLoginCookie.NAME} (ten minutes)."
    else:
        return {}
    return {"Set-Cookie": {"description": description, "schema": {"type": "string"}}}


def _responses(route: Route, schemas: _Schemas, cookie_name: str) -> dict[str, Any]:
    ok: dict[str, Any] = {
        "description": "OK",
        "content": {"application/json": {"schema": schemas.ref(route.method.output_type)}},
    }
    if cookie := _cookie_header(route, cookie_name):
        ok["headers"] = cookie
    responses: dict[str, Any] = {"200": ok}
    if marked_field(route.method.output_type, options_pb2.redirect_to) is not None:
        location = {"description": "Where the browser goes next.", "schema": {"type": "string"}}
        responses = {"302": {"description": "Found: follow Location.", "headers": {"Location": location}}}
        responses["302"]["headers"] |= ok.get("headers", {})
    responses |= {
        "400": _error("The request breaks a rule: the BadRequest detail names each field."),
    }
    if route.needs_cookie:
        responses["401"] = _error("No valid session cookie.")
    if route.access == options_pb2.ACCESS_TENANT_ADMIN:
        responses["403"] = _error("The caller is not an admin of the tenant.")
    if route.method.GetOptions().Extensions[options_pb2.route].throttled:
        retry_after = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
        responses["429"] = _error("Too many attempts.", {"Retry-After": retry_after})
    responses["503"] = _error("A service this route needs is unavailable; try again later.")
    responses["default"] = _error("An error")
    return responses


def _filled_by_gateway(descriptor: Descriptor) -> set[str]:
    """Input fields the gateway fills from a cookie, whatever the query says: no parameter of the route."""
    field = marked_field(descriptor, options_pb2.pre_login_token)
    return {field.name} if field is not None else set()


def _query_fields(descriptor: Descriptor, taken: set[str]) -> list[FieldDescriptor]:
    """The input fields a GET or DELETE takes as query parameters (see transcode)."""
    fields = [f for f in descriptor.fields if f.name not in taken and f.message_type is None]
    oneof = descriptor.oneofs_by_name.get("kind")
    for member in oneof.fields if oneof else []:
        if member.message_type is not None:
            fields.extend(f for f in member.message_type.fields if f.message_type is None)
    return fields


def _operation(route: Route, schemas: _Schemas, cookie_name: str) -> dict[str, Any]:
    descriptor = route.input_descriptor
    json_names = {f.name: f.json_name for f in descriptor.fields}
    path_fields = {v.field_path for v in route.template.variables}
    parameters: list[dict[str, Any]] = [
        {
            "name": json_names.get(p, p),
            "in": "path",
            "required": True,
            "schema": _path_schema(descriptor, p, schemas),
        }
        for p in sorted(path_fields)
    ]
    access, who_may_call = _WHO_MAY_CALL[route.access]
    operation: dict[str, Any] = {
        "operationId": route.method.name,
        "tags": [route.tag],
        "description": who_may_call,
        "x-central-access": access,
        # An empty requirement object in the list makes the cookie optional.
        "security": [{_SCHEME_NAMES[s]: []} for s in route.security]
        + ([{}] if route.security_optional else []),
        "responses": _responses(route, schemas, cookie_name),
    }
    if route.body:
        body_descriptor: Descriptor | None = descriptor
        # The path binds its fields: the body of `body: "*"` holds the others.
        omit = frozenset(path_fields)
        if route.body != "*":
            body_descriptor, omit = descriptor.fields_by_name[route.body].message_type, frozenset()
        assert body_descriptor is not None, "the route table accepts only message fields as a body"
        operation["requestBody"] = {
            "required": _body_required(body_descriptor, omit),
            "content": {"application/json": {"schema": schemas.ref(body_descriptor, omit)}},
        }
    else:
        parameters += [
            {"name": f.json_name, "in": "query", "required": False, "schema": schemas.field(f)}
            for f in _query_fields(descriptor, path_fields | _filled_by_gateway(descriptor))
        ]
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path_schema(descriptor: Descriptor, field_path: str, schemas: _Schemas) -> dict[str, Any]:
    field = descriptor.fields_by_name.get(field_path)
    return schemas.field(field) if field is not None else {"type": "string"}


def build_document(routes: RouteTable, version: str, cookie_name: str) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes.routes, key=lambda r: r.template.template):
        json_names = {f.name: f.json_name for f in route.input_descriptor.fields}
        path = route.template.openapi_path(json_names)
        paths.setdefault(path, {})[route.http_method.lower()] = _operation(route, schemas, cookie_name)
    tags = sorted({r.tag for r in routes.routes})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Central", "version": version},
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.schemas.items())),
            "securitySchemes": {
                COOKIE_SCHEME: {"type": "apiKey", "in": "cookie", "name": cookie_name},
            },
        },
    }
