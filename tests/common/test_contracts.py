"""Every rpc of every service says who may call it, and its route (if any) agrees."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from buf.validate import validate_pb2
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor

import central
from central.api.v1 import options_pb2
from common.grpc.access import declared_access
from common.roles import Role
from services.gateway.routes import RouteTable


def all_services() -> Iterator[ServiceDescriptor]:
    """Every service of every generated proto module: a new one is covered without a list."""
    for module in pkgutil.walk_packages(central.__path__, "central."):
        if module.name.endswith("_pb2"):
            yield from importlib.import_module(module.name).DESCRIPTOR.services_by_name.values()


SERVICES = list(all_services())
METHODS = [method for service in SERVICES for method in service.methods]


def test_the_walk_finds_the_services() -> None:
    assert {"TenantsService", "TenantUsersService", "SessionsService", "SignupService"} <= {
        s.name for s in SERVICES
    }


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.full_name)
def test_every_rpc_declares_its_access(method: MethodDescriptor) -> None:
    declared_access(method)


def test_the_routes_agree_with_the_access_of_their_rpcs() -> None:
    # RouteTable refuses a system rpc with a route, a public one requiring the cookie, and any
    # other without it; built from every service, it must build.
    routes = RouteTable.from_services(SERVICES)
    routed = {route.method.full_name for route in routes.routes}
    system = {m.full_name for m in METHODS if declared_access(m) == options_pb2.ACCESS_SYSTEM}
    assert system and not system & routed


def role_fields() -> Iterator[FieldDescriptor]:
    for method in METHODS:
        for field in method.input_type.fields:
            if field.name == "role" and field.type == FieldDescriptor.TYPE_STRING:
                yield field


def test_the_role_rule_of_every_input_names_the_roles() -> None:
    fields = list(role_fields())
    assert fields
    for field in fields:
        allowed = getattr(field.GetOptions().Extensions[validate_pb2.field].string, "in")
        assert list(allowed) == [role.value for role in Role], field.full_name
