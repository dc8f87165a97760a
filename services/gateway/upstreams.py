"""The services behind the gateway: every proto service a gRPC process of common/processes.py
serves, at that process's address. Their routes come from their protos."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor

import central
from central.auth.v1 import sessions_pb2
from central.tenants.v1 import tenants_pb2
from common.config import Config, HostPort
from common.processes import grpc_services

# The gateway validates every session cookie with it.
SESSIONS = sessions_pb2.DESCRIPTOR.services_by_name["SessionsService"]
# The gateway keeps tenant rows, followed by its stream of changes (services/gateway/tenant_rows.py).
TENANTS = tenants_pb2.DESCRIPTOR.services_by_name["TenantsService"]


@cache
def _load_generated_code() -> None:
    """Load every generated module, so that each service's descriptor is in the pool."""
    for module in pkgutil.walk_packages(central.__path__, "central."):
        if module.name.endswith("_pb2"):
            importlib.import_module(module.name)


def _descriptor(full_name: str) -> ServiceDescriptor:
    _load_generated_code()
    return descriptor_pool.Default().FindServiceByName(full_name)


def routed_services() -> list[ServiceDescriptor]:
    return [_descriptor(name) for process in grpc_services() for name in process.services]


def audiences() -> dict[str, str]:
    """The process that serves each routed service, by its full name: its principals' audience."""
    return {name: process.name for process in grpc_services() for name in process.services}


def upstream_services(config: Config) -> list[tuple[ServiceDescriptor, HostPort]]:
    return [
        (_descriptor(name), config.address(process.name))
        for process in grpc_services()
        for name in process.services
    ]
