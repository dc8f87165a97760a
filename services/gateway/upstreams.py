"""The services behind the gateway. A new service is one line here; its routes come from its protos."""

from __future__ import annotations

from google.protobuf.descriptor import ServiceDescriptor

from central.tenants.v1 import tenants_pb2
from common.config import Config, HostPort

TENANTS = tenants_pb2.DESCRIPTOR.services_by_name["TenantsService"]


def upstream_services(config: Config) -> list[tuple[ServiceDescriptor, HostPort]]:
    return [(TENANTS, config.tenants_addr)]
