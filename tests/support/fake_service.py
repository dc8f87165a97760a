"""A service built in memory, with the annotations a test needs, in a pool of its own."""

from __future__ import annotations

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2
from google.protobuf.descriptor import ServiceDescriptor

from central.api.v1 import options_pb2

F = descriptor_pb2.FieldDescriptorProto


def _message(
    name: str,
    *fields: tuple[str, int, str | None],
    oneof: dict[str, list[str]] | None = None,
    optional: tuple[str, ...] = (),
) -> descriptor_pb2.DescriptorProto:
    """fields: (name, type, message type name or None); oneof: {"kind": [member names]};
    optional: fields with presence (proto3 `optional`, a synthetic oneof each)."""
    message = descriptor_pb2.DescriptorProto(name=name)
    oneof = {**(oneof or {}), **{f"_{field}": [field] for field in optional}}
    oneof_names = list(oneof)
    message.oneof_decl.extend(descriptor_pb2.OneofDescriptorProto(name=n) for n in oneof_names)
    for number, (field_name, field_type, type_name) in enumerate(fields, start=1):
        field = message.field.add(name=field_name, number=number, type=field_type, label=F.LABEL_OPTIONAL)
        if field_name.startswith("many_"):
            field.label = F.LABEL_REPEATED
        if type_name:
            field.type_name = type_name
        for index, (_, members) in enumerate(oneof.items()):
            if field_name in members:
                field.oneof_index = index
        field.proto3_optional = field_name in optional
    return message


def build(
    rules: dict[str, tuple[http_pb2.HttpRule | None, options_pb2.RouteOptions | None]],
) -> ServiceDescriptor:
    """A `central.fake.v1.ThingsService` whose rpc NAME takes NameInput and returns NameResponse."""
    pool = descriptor_pool.DescriptorPool()
    for module in (descriptor_pb2, timestamp_pb2, http_pb2, annotations_pb2, options_pb2):
        file = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(file)
        pool.Add(file)
    file = descriptor_pb2.FileDescriptorProto(
        name="central/fake/v1/things.proto",
        package="central.fake.v1",
        syntax="proto3",
        dependency=[
            "google/protobuf/timestamp.proto",
            "google/api/annotations.proto",
            "central/api/v1/options.proto",
        ],
    )
    file.enum_type.add(name="Colour").value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=name, number=number)
        for number, name in enumerate(["COLOUR_UNSPECIFIED", "COLOUR_RED", "COLOUR_BLUE"])
    )
    file.message_type.extend(
        [
            _message("Password", ("min_length", F.TYPE_UINT32, None)),
            _message("Oidc", ("issuer", F.TYPE_STRING, None), ("client_id", F.TYPE_STRING, None)),
            _message(
                "Thing",
                ("thing_id", F.TYPE_STRING, None),
                ("enabled", F.TYPE_BOOL, None),
                ("password", F.TYPE_MESSAGE, ".central.fake.v1.Password"),
                ("oidc", F.TYPE_MESSAGE, ".central.fake.v1.Oidc"),
                ("created_at", F.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
                oneof={"kind": ["password", "oidc"]},
            ),
            _message(
                "ListThingsInput",
                ("limit", F.TYPE_UINT32, None),
                ("name", F.TYPE_STRING, None),
                ("many_tags", F.TYPE_STRING, None),
                ("archived", F.TYPE_BOOL, None),
                ("colour", F.TYPE_ENUM, ".central.fake.v1.Colour"),
                optional=("limit",),
            ),
        ]
    )
    for rpc in rules:
        if rpc.startswith("List"):
            file.message_type.append(
                _message(
                    f"{rpc}InputOrCursor",
                    ("input", F.TYPE_MESSAGE, ".central.fake.v1.ListThingsInput"),
                    ("cursor", F.TYPE_STRING, None),
                    oneof={"kind": ["input", "cursor"]},
                )
            )
        else:
            file.message_type.append(
                _message(
                    f"{rpc}Input",
                    ("tenant_id", F.TYPE_STRING, None),
                    ("name", F.TYPE_STRING, None),
                    ("count", F.TYPE_INT64, None),
                    ("password", F.TYPE_MESSAGE, ".central.fake.v1.Password"),
                    ("oidc", F.TYPE_MESSAGE, ".central.fake.v1.Oidc"),
                    ("many_colours", F.TYPE_ENUM, ".central.fake.v1.Colour"),
                    oneof={"kind": ["password", "oidc"]},
                )
            )
        file.message_type.append(
            _message(
                f"{rpc}Response",
                ("thing", F.TYPE_MESSAGE, ".central.fake.v1.Thing"),
                ("many_things", F.TYPE_MESSAGE, ".central.fake.v1.Thing"),
                ("next_cursor", F.TYPE_STRING, None),
            )
        )
    service = file.service.add(name="ThingsService")
    for rpc, (rule, route) in rules.items():
        input_name = f"{rpc}InputOrCursor" if rpc.startswith("List") else f"{rpc}Input"
        method = service.method.add(
            name=rpc,
            input_type=f".central.fake.v1.{input_name}",
            output_type=f".central.fake.v1.{rpc}Response",
        )
        if rule is not None:
            method.options.Extensions[annotations_pb2.http].CopyFrom(rule)  # type: ignore[index]
            # A route's access agrees with its security, as the route table demands.
            method.options.Extensions[options_pb2.access] = (
                options_pb2.ACCESS_TENANT_USER
                if route is not None and route.security.schemes and not route.security.optional
                else options_pb2.ACCESS_PUBLIC
            )
        if route is not None:
            method.options.Extensions[options_pb2.route].CopyFrom(route)
    pool.Add(file)
    return pool.FindServiceByName("central.fake.v1.ThingsService")


PUBLIC = options_pb2.RouteOptions(tag="things", security=options_pb2.Security())
COOKIE = options_pb2.RouteOptions(
    tag="things", security=options_pb2.Security(schemes=[options_pb2.SECURITY_SCHEME_TENANT_USER_COOKIE])
)
