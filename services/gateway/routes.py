"""The route table, built at start-up from the services' `google.api.http` annotations.

Every rpc with an annotation is a route; one without stays gRPC-only. Each routed rpc must
also carry `central.api.v1.route` with its tag and an explicit security list, which must
agree with the rpc's `central.api.v1.access`: a public rpc asks for no cookie (or takes one
optionally), any other for the session cookie, and a system rpc has no route at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from google.api import annotations_pb2, http_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from central.api.v1 import options_pb2
from common.grpc.access import Access, declared_access
from services.gateway.path_template import PathTemplate, path_segments

if TYPE_CHECKING:
    from google.protobuf.descriptor_pb2 import FieldOptions, MethodOptions
    from google.protobuf.internal.extension_dict import _ExtensionFieldDescriptor


class RouteTableError(ValueError):
    """An annotation the gateway cannot serve; raised at start-up, never per request."""


@dataclass(frozen=True, slots=True)
class Route:
    http_method: str
    template: PathTemplate
    method: MethodDescriptor
    # "*" (the whole input is the body), "" (no body) or one top-level field's name.
    body: str
    tag: str
    # Who may call it (common/grpc/access.py enforces it); the security below agrees with it.
    access: Access
    security: tuple[options_pb2.SecurityScheme.ValueType, ...]
    # The caller may come without a valid session, as the anonymous principal.
    security_optional: bool
    # The response field whose value becomes the session cookie, never JSON.
    session_token_field: FieldDescriptor | None
    # The response field that says the caller's session ended (clear the cookie), never JSON.
    ends_session_field: FieldDescriptor | None
    # JSON names of the two above: kept out of the body.
    gateway_only_fields: frozenset[str]
    input_descriptor: Descriptor
    input_type: type[Message]
    output_type: type[Message]
    # A list's ListXInput (its input is `oneof kind { ListXInput input; string cursor; }`):
    # the query a client may send again beside its cursor. None for other routes.
    list_input_type: type[Message] | None
    # The gateway's own cache that may answer the route (services/gateway/tenant_rows.py), or none.
    answered_from: options_pb2.GatewayCache.ValueType

    @property
    def rpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def service(self) -> ServiceDescriptor:
        return self.method.containing_service

    @property
    def is_public(self) -> bool:
        return not self.security

    @property
    def needs_cookie(self) -> bool:
        return bool(self.security) and not self.security_optional

    @property
    def hidden_field_prefix(self) -> str:
        """The path a list's query parameters fill without naming it (its `input.` member)."""
        return "input." if self.list_input_type is not None else ""


@dataclass(frozen=True, slots=True)
class Match:
    """What the route table found for a request: its route and path variables, or none."""

    route: Route | None
    variables: dict[str, str]
    # Without a route: the methods the path has (a 405), or none (a 404).
    allowed: tuple[str, ...] = ()


_VERBS = ("get", "put", "post", "delete", "patch")


# googleapis-common-protos types its extensions as plain field descriptors.
_HTTP = cast("_ExtensionFieldDescriptor[MethodOptions, http_pb2.HttpRule]", annotations_pb2.http)


def _http_rule(method: MethodDescriptor) -> http_pb2.HttpRule | None:
    options = method.GetOptions()
    if not options.HasExtension(_HTTP):
        return None
    return options.Extensions[_HTTP]


def _route(method: MethodDescriptor, rule: http_pb2.HttpRule) -> Route:
    name = method.full_name
    verb = rule.WhichOneof("pattern")
    if verb not in _VERBS:
        raise RouteTableError(f"{name}: unsupported http pattern {verb!r}")
    if rule.additional_bindings:
        raise RouteTableError(f"{name}: additional_bindings are not supported")
    options = method.GetOptions()
    if not options.HasExtension(options_pb2.route):
        raise RouteTableError(f"{name}: a routed rpc needs (central.api.v1.route) with its tag and security")
    route_options: options_pb2.RouteOptions = options.Extensions[options_pb2.route]
    if not route_options.HasField("security"):
        raise RouteTableError(f"{name}: declare security explicitly (`security: {{}}` for a public route)")
    if not route_options.tag:
        raise RouteTableError(f"{name}: a routed rpc needs a tag")
    access = _route_access(method, route_options.security)
    template = PathTemplate.parse(getattr(rule, verb))
    input_descriptor: Descriptor = method.input_type
    for variable in template.variables:
        _field_at(input_descriptor, variable.field_path, name)
    if rule.body not in ("", "*"):
        _field_at(input_descriptor, rule.body, name)
    if verb in ("get", "delete") and rule.body:
        raise RouteTableError(f"{name}: {verb.upper()} routes take no body")
    if route_options.answered_from and verb != "get":
        raise RouteTableError(f"{name}: only a GET route may be answered from the gateway's cache")
    return Route(
        http_method=verb.upper(),
        template=template,
        method=method,
        body=rule.body,
        tag=route_options.tag,
        access=access,
        security=tuple(route_options.security.schemes),
        security_optional=route_options.security.optional,
        session_token_field=marked_field(method.output_type, options_pb2.session_token),
        ends_session_field=marked_field(method.output_type, options_pb2.ends_session),
        gateway_only_fields=gateway_only_fields(method.output_type),
        input_descriptor=input_descriptor,
        input_type=message_factory.GetMessageClass(input_descriptor),
        output_type=message_factory.GetMessageClass(method.output_type),
        list_input_type=_list_input_type(input_descriptor),
        answered_from=route_options.answered_from,
    )


def _route_access(method: MethodDescriptor, security: options_pb2.Security) -> Access:
    """The rpc's access, when its route's security says the same; a RouteTableError otherwise."""
    try:
        access = declared_access(method)
    except ValueError as error:
        raise RouteTableError(str(error)) from None
    name = method.full_name
    if access in (options_pb2.ACCESS_SYSTEM, options_pb2.ACCESS_GATEWAY):
        raise RouteTableError(f"{name}: an rpc for Central's own processes has no HTTP route")
    if access == options_pb2.ACCESS_PUBLIC:
        if security.schemes and not security.optional:
            raise RouteTableError(f"{name}: a public rpc cannot require a session (`security: {{}}`)")
    elif list(security.schemes) != [options_pb2.SECURITY_SCHEME_TENANT_USER_COOKIE] or security.optional:
        raise RouteTableError(f"{name}: an rpc for signed-in callers requires the session cookie")
    return access


def _list_input_type(descriptor: Descriptor) -> type[Message] | None:
    kind = descriptor.oneofs_by_name.get("kind")
    members = {field.name: field for field in kind.fields} if kind is not None else {}
    input_member, cursor_member = members.get("input"), members.get("cursor")
    if (
        input_member is None
        or input_member.message_type is None
        or cursor_member is None
        or cursor_member.type != FieldDescriptor.TYPE_STRING
    ):
        return None
    return message_factory.GetMessageClass(input_member.message_type)


def marked_field(
    descriptor: Descriptor, option: _ExtensionFieldDescriptor[FieldOptions, bool]
) -> FieldDescriptor | None:
    """The field of `descriptor` that carries `option` (a gateway-only field), if any."""
    for field in descriptor.fields:
        if field.GetOptions().Extensions[option]:
            return field
    return None


def gateway_only_fields(descriptor: Descriptor) -> frozenset[str]:
    """JSON names of the fields the gateway turns into cookies or a redirect instead of body."""
    marked = (
        marked_field(descriptor, options_pb2.session_token),
        marked_field(descriptor, options_pb2.ends_session),
        marked_field(descriptor, options_pb2.redirect_to),
        marked_field(descriptor, options_pb2.pre_login_token),
    )
    return frozenset(field.json_name for field in marked if field is not None)


def _field_at(descriptor: Descriptor, path: str, rpc: str) -> None:
    for part in path.split("."):
        field = descriptor.fields_by_name.get(part)
        if field is None:
            raise RouteTableError(f"{rpc}: no field {path!r} in {descriptor.full_name}")
        if field.message_type is not None:
            descriptor = field.message_type


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: r.template.specificity, reverse=True)
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            key = (route.http_method, route.template.template)
            if key in seen:
                raise RouteTableError(f"two rpcs serve {route.http_method} {route.template.template}")
            seen.add(key)
        # Each request tries only the routes its path's length and first segment allow, in the
        # same order (a linear scan cost ~16 µs a request, measured: bench, issue 11).
        self._first_literals = {
            literal for route in self.routes if (literal := route.template.first_literal) is not None
        }
        self._longest = max((len(route.template.segments) for route in self.routes), default=0)
        self._candidates: dict[tuple[int, str | None], list[Route]] = {}

    def _candidates_for(self, segments: tuple[str, ...]) -> list[Route]:
        # Keys are bounded: lengths past the longest template, and unknown first segments, share one.
        count = min(len(segments), self._longest + 1)
        first = segments[0] if segments and segments[0] in self._first_literals else None
        found = self._candidates.get((count, first))
        if found is None:
            found = [route for route in self.routes if route.template.may_match(count, first)]
            self._candidates[(count, first)] = found
        return found

    @classmethod
    def from_services(cls, services: Iterable[ServiceDescriptor]) -> RouteTable:
        routes = []
        for service in services:
            for method in service.methods:
                if (rule := _http_rule(method)) is not None:
                    routes.append(_route(method, rule))
        return cls(routes)

    def match(self, http_method: str, raw_path: bytes) -> Match:
        """The route and its path variables, or no route and the methods the path has (for a 405).

        `raw_path` is the path as sent, still percent-encoded (ASGI's `raw_path`); a HEAD is
        served by the GET route of its path (RFC 9110). Raises MalformedPathError.
        """
        segments = path_segments(raw_path)
        wanted = "GET" if http_method == "HEAD" else http_method
        allowed: list[str] = []
        for route in self._candidates_for(segments):
            variables = route.template.match(segments)
            if variables is None:
                continue
            if route.http_method == wanted:
                return Match(route, variables)
            allowed.append(route.http_method)
        if "GET" in allowed:
            allowed.append("HEAD")
        return Match(None, {}, tuple(allowed))
