"""THE registry of Central's processes: what each one serves, where, with which schema, and how
its health is checked. `central up|serve|migrate|healthcheck`, the configuration, the gateway's
upstreams and docker-compose.yml (by a test) all follow it: a new domain service is one entry
here plus its own folder under services/.

Entry points are dotted paths, imported only when that process starts, so that the shared
library imports no domain.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class Kind(StrEnum):
    GRPC = "grpc"  # `central serve NAME`: the domain's `registrar`, served with health and reflection
    GATEWAY = "gateway"  # `central serve gateway`: the REST gateway in front of every gRPC process
    WORKER = "worker"  # `central worker --queue QUEUE`: one Temporal task queue's worker


class Health(StrEnum):
    GRPC = "grpc"  # grpc.health.v1 at the process's address
    READINESS = "readiness"  # the gateway's /meta/readiness-probe
    POLLER = "poller"  # Temporal sees a worker of this host polling the queue


@dataclass(frozen=True)
class Process:
    name: str  # the container's name in docker-compose.yml
    kind: Kind
    # `module:attribute`: a `registrar(container)` for gRPC, a `serve(container)` otherwise.
    entry_point: str
    health: Health
    address_variable: str | None = None
    default_address: str | None = None
    # Full names of the proto services it serves; the gateway routes each of them to it.
    services: tuple[str, ...] = ()
    schema: str | None = None
    migrations: str | None = None  # the schema's folder, from the repository root
    # A process without a schema of its own that reads and writes another's (a domain's worker):
    # it connects as that schema's runtime role.
    works_in_schema: str | None = None
    queue: str | None = None  # a worker's task queue
    # Whether `central up` runs it (a queue's worker joins with the queue's first workflow).
    in_up: bool = True
    # The largest gRPC message it accepts (gRPC's default, unless its rpcs carry files).
    max_message_bytes: int = 4 * 1024 * 1024

    @property
    def command(self) -> list[str]:
        """Its `central` command line, as compose and `central up` run it."""
        if self.kind is Kind.WORKER:
            return ["worker", "--queue", str(self.queue)]
        return ["serve", self.name]

    @property
    def healthcheck_target(self) -> str:
        """Its name for `central healthcheck` and `central up`'s logs: its container's name (a
        worker's queue would not do: the media queue and the media service share a name)."""
        return self.name

    @property
    def migrations_folder(self) -> Path | None:
        return ROOT / self.migrations if self.migrations else None

    @property
    def database_role(self) -> str | None:
        """The PostgreSQL role it connects as (None: it never connects), confined to one schema."""
        schema = self.schema or self.works_in_schema
        return runtime_role(schema) if schema else None

    def load(self) -> Any:
        module, _, attribute = self.entry_point.partition(":")
        return getattr(importlib.import_module(module), attribute)


def runtime_role(schema: str) -> str:
    """The login role of the processes that work in `schema`: its tables' rows, nothing else."""
    return f"central_{schema}"


def owner_role(schema: str) -> str:
    """The role that owns `schema` and its objects (no login: `central migrate` takes it on)."""
    return f"central_{schema}_owner"


# Started by `central up`, and migrated, in this order: a process's dependencies come first.
PROCESSES: tuple[Process, ...] = (
    Process(
        "tenants",
        Kind.GRPC,
        "services.tenants.server:registrar",
        Health.GRPC,
        address_variable="CENTRAL_TENANTS_ADDR",
        default_address="127.0.0.1:50051",
        services=("central.tenants.v1.TenantsService",),
        schema="tenants",
        migrations="services/tenants/migrations",
    ),
    Process(
        "auth",
        Kind.GRPC,
        "services.auth.server:registrar",
        Health.GRPC,
        address_variable="CENTRAL_AUTH_ADDR",
        default_address="127.0.0.1:50052",
        services=(
            "central.auth.v1.TenantUsersService",
            "central.auth.v1.AuthConnectorsService",
            "central.auth.v1.SessionsService",
            # Signup runs on Temporal, started from the auth process.
            "central.identity.v1.SignupService",
        ),
        schema="auth",
        migrations="services/auth/migrations",
    ),
    Process(
        "media",
        Kind.GRPC,
        "services.media.server:registrar",
        Health.GRPC,
        address_variable="CENTRAL_MEDIA_ADDR",
        default_address="127.0.0.1:50053",
        services=("central.media.v1.TranscriptionJobsService",),
        schema="media",
        migrations="services/media/migrations",
        # 25 MiB of audio and the rest of the input.
        max_message_bytes=26 * 1024 * 1024,
    ),
    Process(
        "gateway",
        Kind.GATEWAY,
        "services.gateway.server:serve",
        Health.READINESS,
        address_variable="CENTRAL_GATEWAY_ADDR",
        default_address="127.0.0.1:8080",
    ),
    Process("worker-core", Kind.WORKER, "worker.main:run_worker", Health.POLLER, queue="core"),
    # The media activities read and write the media schema directly (worker/activities).
    Process(
        "worker-media",
        Kind.WORKER,
        "worker.main:run_worker",
        Health.POLLER,
        queue="media",
        works_in_schema="media",
    ),
)
BY_NAME = {process.name: process for process in PROCESSES}


def process(name: str) -> Process:
    return BY_NAME[name]


def served() -> list[Process]:
    """The processes `central serve` runs (gRPC services and the gateway)."""
    return [p for p in PROCESSES if p.kind is not Kind.WORKER]


def grpc_services() -> list[Process]:
    return [p for p in PROCESSES if p.kind is Kind.GRPC]


def workers() -> list[Process]:
    return [p for p in PROCESSES if p.kind is Kind.WORKER]


def with_schema() -> list[Process]:
    return [p for p in PROCESSES if p.schema is not None]
