"""The registry of processes (common/processes.py) agrees with what runs them: the CLI, the
configuration, docker-compose.yml, the gateway's routes and API.md's table of addresses."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf.descriptor import ServiceDescriptor

import central
from cli.main import _parser
from cli.up import PROCESSES as UP
from common.config import Config
from common.processes import PROCESSES, Health, Kind, Process, grpc_services
from services.gateway import meta, upstreams
from services.gateway.routes import RouteTable

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
# API.md's table, as an operator reads it.
API_ADDRESSES = {
    "gateway": ("CENTRAL_GATEWAY_ADDR", "127.0.0.1:8080"),
    "tenants": ("CENTRAL_TENANTS_ADDR", "127.0.0.1:50051"),
    "auth": ("CENTRAL_AUTH_ADDR", "127.0.0.1:50052"),
    "media": ("CENTRAL_MEDIA_ADDR", "127.0.0.1:50053"),
}
IN_COMPOSE = [p for p in PROCESSES if p.in_up]


def test_the_addresses_are_api_mds() -> None:
    listening = {p.name: (p.address_variable, p.default_address) for p in PROCESSES if p.address_variable}
    assert listening == API_ADDRESSES
    config = Config.from_env({})
    assert {name: str(config.address(name)) for name in listening} == {
        name: default for name, (_, default) in API_ADDRESSES.items()
    }
    moved = Config.from_env({"CENTRAL_AUTH_ADDR": "10.0.0.9:7000"})
    assert str(moved.auth_addr) == "10.0.0.9:7000"


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_each_process_is_a_central_command_with_a_health_check(process: Process) -> None:
    _parser().parse_args(process.command)
    _parser().parse_args(["healthcheck", process.healthcheck_target])
    expected = {Kind.GRPC: Health.GRPC, Kind.GATEWAY: Health.READINESS, Kind.WORKER: Health.POLLER}
    assert process.health is expected[process.kind]
    assert callable(process.load())


@pytest.mark.parametrize("process", IN_COMPOSE, ids=lambda p: p.name)
def test_each_process_has_its_container(process: Process) -> None:
    container = COMPOSE[process.name]
    assert container["image"] == "central:latest"
    assert container["command"] == process.command
    assert container["healthcheck"]["test"] == ["CMD", "central", "healthcheck", process.healthcheck_target]
    if process.address_variable:
        # It listens on every interface of its container, on the default port.
        port = str(process.default_address).rpartition(":")[2]
        assert container["environment"][process.address_variable] == f"0.0.0.0:{port}"


def test_compose_runs_no_central_process_the_registry_does_not_know() -> None:
    central = {name for name, c in COMPOSE.items() if c.get("image") == "central:latest"}
    assert central - {"migrate", "certs"} == {p.name for p in IN_COMPOSE}
    assert [name for name, _ in UP] == [p.healthcheck_target for p in IN_COMPOSE]


def _every_proto_service() -> list[ServiceDescriptor]:
    found: list[ServiceDescriptor] = []
    for module in pkgutil.walk_packages(central.__path__, "central."):
        if module.name.endswith("_pb2"):
            found.extend(importlib.import_module(module.name).DESCRIPTOR.services_by_name.values())
    return found


def test_every_routed_service_is_served_by_a_process() -> None:
    # The OpenAPI document has one operation per route of every proto service with HTTP rules.
    routed = {
        r.method.containing_service.full_name for r in RouteTable.from_services(_every_proto_service()).routes
    }
    served = {name for p in grpc_services() for name in p.services}
    assert routed - {meta.SERVICE.full_name} == served
    assert [s.full_name for s in upstreams.routed_services()] == [
        name for p in grpc_services() for name in p.services
    ]


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.schema], ids=lambda p: p.name)
def test_each_schema_has_its_migrations(process: Process) -> None:
    folder = process.migrations_folder
    assert folder is not None and folder.is_dir() and any(folder.glob("*.sql"))
    assert folder.is_relative_to(ROOT / "services" / process.name)
