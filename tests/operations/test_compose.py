"""docker-compose.yml, checked without a Docker engine: what it runs must exist in Central."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import _parser, main
from common.config import Config, TlsFiles
from common.processes import PROCESSES, Process

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
CENTRAL_SERVICES = {name: s for name, s in COMPOSE["services"].items() if s.get("image") == "central:latest"}
# Jobs that run once and exit; every other container of the image is a process of the registry.
ONE_SHOT = {"migrate", "certs"}


def variables_central_reads() -> set[str]:
    names: set[str] = set()
    for folder in ("cli", "common", "services", "worker"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'"(CENTRAL_[A-Z_]+)"', path.read_text()))
    # Every key variable may instead name a file that holds the key (common/keys.py).
    return names | {f"{name}_FILE" for name in names if name.endswith(("_KEY", "_KEYS"))}


def test_every_process_that_exists_runs_in_a_container_of_the_one_image() -> None:
    everything = {"certs", "migrate", "tenants", "auth", "media", "gateway", "worker-core", "worker-media"}
    assert everything <= set(CENTRAL_SERVICES)
    assert {"temporal", "temporal-ui"} <= set(COMPOSE["services"])
    assert "postgres" in COMPOSE["services"]


@pytest.mark.parametrize("name", sorted(CENTRAL_SERVICES))
def test_each_command_is_a_central_subcommand(name: str) -> None:
    _parser().parse_args(CENTRAL_SERVICES[name]["command"])


@pytest.mark.parametrize("name", sorted(CENTRAL_SERVICES))
def test_each_variable_set_is_one_central_reads(name: str) -> None:
    known = variables_central_reads()
    assert set(CENTRAL_SERVICES[name]["environment"]) <= known


@pytest.mark.parametrize("name", sorted(set(CENTRAL_SERVICES) - ONE_SHOT))
def test_each_long_running_process_has_a_health_check_that_central_knows(name: str) -> None:
    test = CENTRAL_SERVICES[name]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "central"]
    _parser().parse_args(test[2:])


def test_start_order_follows_health() -> None:
    services = COMPOSE["services"]
    certs = {"certs": {"condition": "service_completed_successfully"}}
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["tenants"]["depends_on"] == {
        **certs,
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["auth"]["depends_on"] == {**certs, "tenants": {"condition": "service_healthy"}}
    assert services["gateway"]["depends_on"] == {
        **certs,
        "tenants": {"condition": "service_healthy"},
        "auth": {"condition": "service_healthy"},
        "media": {"condition": "service_healthy"},
    }
    assert services["media"]["depends_on"] == {
        **certs,
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["worker-media"]["depends_on"] == {
        **certs,
        "temporal": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


# The keys each process holds: the ones it uses, and no other. Above all, the gateway, which
# faces the internet, holds neither the system's signing key nor the services' secret.
KEYS_HELD = {
    "certs": set(),
    "migrate": set(),
    "tenants": {"central_signing_key", "central_trusted_keys"},
    "auth": {
        "central_signing_key",
        "central_encryption_key",
        "central_system_signing_key",
        "central_trusted_keys",
    },
    "media": {"central_signing_key", "central_encryption_key", "central_trusted_keys"},
    "gateway": {"central_gateway_signing_key"},
    "worker-core": {"central_signing_key", "central_encryption_key", "central_system_signing_key"},
    "worker-media": {"central_signing_key", "central_encryption_key"},
}
KEY_VARIABLES = {
    "central_signing_key": "CENTRAL_SIGNING_KEY",
    "central_encryption_key": "CENTRAL_ENCRYPTION_KEY",
    "central_gateway_signing_key": "CENTRAL_GATEWAY_SIGNING_KEY",
    "central_system_signing_key": "CENTRAL_SYSTEM_SIGNING_KEY",
    "central_trusted_keys": "CENTRAL_TRUSTED_KEYS",
}


@pytest.mark.parametrize("name", sorted(CENTRAL_SERVICES))
def test_each_process_holds_its_own_keys_as_secrets_its_user_alone_reads(name: str) -> None:
    service = CENTRAL_SERVICES[name]
    user = re.search(r"useradd [^\n]*--uid (\d+) --gid (\d+)", (ROOT / "Dockerfile").read_text())
    assert user is not None
    secrets = service.get("secrets") or []
    # (Its database password, if any, is tests/operations/test_db_roles.py's.)
    assert {
        secret["source"] for secret in secrets if not secret["source"].endswith("_db_password")
    } == KEYS_HELD[name]
    for secret in secrets:
        assert (secret["uid"], secret["gid"], secret["mode"]) == (user[1], user[2], 0o400), secret
    environment = service.get("environment") or {}
    # A key is never a variable's value, and each key variable names a secret the process holds.
    assert not set(KEY_VARIABLES.values()) & set(environment)
    held = {f"{variable}_FILE" for source, variable in KEY_VARIABLES.items() if source in KEYS_HELD[name]}
    assert {v for v in environment if v in {f"{k}_FILE" for k in KEY_VARIABLES.values()}} == held
    for source in KEYS_HELD[name]:
        assert environment[f"{KEY_VARIABLES[source]}_FILE"] == f"/run/secrets/{source}"
    assert set(COMPOSE["secrets"]) >= KEYS_HELD[name]


def test_the_key_files_stay_out_of_git() -> None:
    names = [secret["file"].removeprefix("./") for secret in COMPOSE["secrets"].values()]
    ignored = subprocess.run(["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True)
    assert sorted(ignored.stdout.split()) == sorted(names)


def test_the_gateway_believes_forwarding_headers_from_its_proxy_alone() -> None:
    services = COMPOSE["services"]
    trusted = Config.from_env(services["gateway"]["environment"]).trusted_proxies
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert trusted == (f"{proxy_address}/32",)
    # Nobody else reaches the gateway from outside this host.
    assert all(port.startswith("127.0.0.1:") for port in services["gateway"]["ports"])
    assert "gateway:8080" in services["proxy"]["command"]


def networks_of(service: dict[str, Any]) -> set[str]:
    return set(service.get("networks") or ["default"])


def test_temporal_is_reached_only_by_the_processes_that_start_or_run_workflows() -> None:
    services = COMPOSE["services"]
    assert networks_of(services["temporal"]) == {"temporal"}
    assert COMPOSE["networks"]["temporal"]["internal"] is True
    on_temporal = {name for name, service in services.items() if "temporal" in networks_of(service)}
    # auth starts signups, the workers run workflows, postgres is Temporal's own store.
    assert {"temporal-ui", "postgres", "auth", "worker-core"} <= on_temporal
    assert not {"gateway", "tenants", "migrate", "proxy"} & on_temporal


def test_the_temporal_ui_is_read_only_and_on_this_host_alone() -> None:
    ui = COMPOSE["services"]["temporal-ui"]
    assert ui["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert ui["ports"] and all(port.startswith("127.0.0.1:") for port in ui["ports"])
    assert not COMPOSE["networks"]["temporal-ui"]


def test_the_build_context_leaves_out_keys_and_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".central/", "*.key", ".git/", ".venv/"} <= ignored
    # Everything the Dockerfile copies is still in the context.
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert source not in ignored and f"{source}/" not in ignored, source


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.in_up], ids=lambda p: p.name)
def test_each_process_speaks_mutual_tls_with_its_own_certificate_alone(process: Process) -> None:
    service = CENTRAL_SERVICES[process.name]
    assert service["depends_on"]["certs"] == {"condition": "service_completed_successfully"}
    # Its own folder of the volume, read-only: neither the CA's key nor another process's key.
    [mount] = [m for m in service["volumes"] if isinstance(m, dict) and m["source"] == "certs"]
    assert mount == {
        "type": "volume",
        "source": "certs",
        "target": "/certs",
        "read_only": True,
        "volume": {"subpath": process.name},
    }
    tls = Config.from_env(service["environment"]).tls.files
    assert tls == TlsFiles(Path("/certs/cert.pem"), Path("/certs/key.pem"), Path("/certs/ca.pem"))


def test_the_certs_job_makes_every_process_a_certificate_and_reaches_nothing(tmp_path: Path) -> None:
    job = CENTRAL_SERVICES["certs"]
    assert job["network_mode"] == "none" and not job["secrets"] and job["restart"] == "no"
    assert job["volumes"] == ["certs:/certs"] and "certs" in COMPOSE["volumes"]
    command = [arg.replace("/certs", str(tmp_path)) for arg in job["command"]]
    assert main(command) == 0
    for process in PROCESSES:
        assert sorted(p.name for p in (tmp_path / process.name).iterdir()) == [
            "ca.pem",
            "cert.pem",
            "key.pem",
        ]
