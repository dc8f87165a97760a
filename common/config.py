"""Configuration, read once from the environment (the variables of API.md)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from common.processes import PROCESSES

T = TypeVar("T", int, float)


class ConfigError(Exception):
    """A variable is set to a value Central cannot use."""


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    certificate: Path  # this process's, naming it (its container's name); it is also its client certificate
    key: Path
    authority: Path  # the CA that signed every process's certificate


@dataclass(frozen=True, slots=True)
class TlsSettings:
    # CENTRAL_TLS_CERT_FILE, CENTRAL_TLS_KEY_FILE, CENTRAL_TLS_CA_FILE: mutual TLS between processes.
    # None: plaintext, which common/grpc/tls.py allows on loopback only.
    files: TlsFiles | None = None
    # CENTRAL_TLS=off: plaintext on any address, for a network that protects itself.
    plaintext_anywhere: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    # The address of every process that listens, by its name in common/processes.py.
    addresses: Mapping[str, HostPort]
    temporal_addr: HostPort
    temporal_namespace: str
    # None: use the embedded PostgreSQL of `home`, starting it if needed.
    database_url: str | None
    database_ro_url: str | None
    # CENTRAL_DATABASE_PASSWORDS_DIR: `<user>_db_password` files, one per PostgreSQL user
    # (common/db/roles.py); None: the URL's own password, if any.
    database_passwords_dir: Path | None
    home: Path
    log_level: str
    log_format: str
    # Deadline the gateway and operator commands put on each gRPC call.
    rpc_timeout_seconds: float
    db_pool_max_size: int
    # The server-side ceiling on any one statement, whatever its caller's deadline.
    db_statement_timeout_seconds: int
    max_body_bytes: int
    # The time a client has to send a whole request body; a slower one gets a 408.
    body_timeout_seconds: float
    session_cookie_name: str
    session_ttl_seconds: int
    session_idle_seconds: int
    # Origins other than the gateway's own from which browsers may send unsafe requests.
    allowed_origins: frozenset[str]
    # The reverse proxies (addresses or CIDR networks) whose X-Forwarded-For and
    # X-Forwarded-Proto the gateway believes. None by default: the client address is then
    # the TCP peer, so that nobody can pick their own address to dodge the login throttle.
    trusted_proxies: tuple[str, ...]
    login_window_seconds: int
    login_max_failures_per_email: int
    login_max_failures_per_address: int
    # Signups per client address per login window: each costs a hash, a workflow and a tenant.
    signup_max_per_address: int
    # The session cleanup schedule: how often it runs, and how long after ending a session goes.
    session_cleanup_every_seconds: int
    session_cleanup_after_seconds: int
    # CENTRAL_PUBLIC_URL: the origin browsers reach the gateway at; None: http:// + its address.
    public_url_setting: str | None = None
    tls: TlsSettings = TlsSettings()

    @property
    def public_url(self) -> str:
        """The origin of the gateway as browsers see it (single sign-on's redirect URI starts with it)."""
        return (self.public_url_setting or f"http://{self.gateway_addr}").rstrip("/")

    def address(self, process: str) -> HostPort:
        return self.addresses[process]

    def with_address(self, process: str, address: HostPort) -> Config:
        return replace(self, addresses={**self.addresses, process: address})

    @property
    def gateway_addr(self) -> HostPort:
        return self.addresses["gateway"]

    @property
    def tenants_addr(self) -> HostPort:
        return self.addresses["tenants"]

    @property
    def auth_addr(self) -> HostPort:
        return self.addresses["auth"]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        return cls(
            addresses={
                p.name: _host_port(env, p.address_variable, p.default_address)
                for p in PROCESSES
                if p.address_variable and p.default_address
            },
            temporal_addr=_host_port(env, "CENTRAL_TEMPORAL_ADDR", "127.0.0.1:7233"),
            temporal_namespace=env.get("CENTRAL_TEMPORAL_NAMESPACE", "default") or "default",
            database_url=env.get("CENTRAL_DATABASE_URL") or None,
            database_ro_url=env.get("CENTRAL_DATABASE_RO_URL") or None,
            database_passwords_dir=Path(env["CENTRAL_DATABASE_PASSWORDS_DIR"])
            if env.get("CENTRAL_DATABASE_PASSWORDS_DIR")
            else None,
            home=Path(env.get("CENTRAL_HOME") or ".central").resolve(),
            log_level=_choice(env, "CENTRAL_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            log_format=_choice(env, "CENTRAL_LOG_FORMAT", "text", ("text", "json")),
            rpc_timeout_seconds=_number(env, "CENTRAL_RPC_TIMEOUT_SECONDS", 5.0, float),
            db_pool_max_size=_number(env, "CENTRAL_DB_POOL_MAX_SIZE", 10, int),
            db_statement_timeout_seconds=_number(env, "CENTRAL_DB_STATEMENT_TIMEOUT_SECONDS", 30, int),
            max_body_bytes=_number(env, "CENTRAL_MAX_BODY_BYTES", 1_048_576, int),
            body_timeout_seconds=_number(env, "CENTRAL_BODY_TIMEOUT_SECONDS", 10.0, float),
            session_cookie_name=_cookie_name(env, "CENTRAL_SESSION_COOKIE_NAME", "__Host-central-session"),
            session_ttl_seconds=_number(env, "CENTRAL_SESSION_TTL_SECONDS", 14 * 24 * 3600, int),
            session_idle_seconds=_number(env, "CENTRAL_SESSION_IDLE_SECONDS", 24 * 3600, int),
            allowed_origins=_origins(env, "CENTRAL_ALLOWED_ORIGINS"),
            trusted_proxies=_networks(env, "CENTRAL_TRUSTED_PROXIES"),
            login_window_seconds=_number(env, "CENTRAL_LOGIN_WINDOW_SECONDS", 15 * 60, int),
            login_max_failures_per_email=_number(env, "CENTRAL_LOGIN_MAX_FAILURES_PER_EMAIL", 10, int),
            login_max_failures_per_address=_number(env, "CENTRAL_LOGIN_MAX_FAILURES_PER_ADDRESS", 100, int),
            signup_max_per_address=_number(env, "CENTRAL_SIGNUP_MAX_PER_ADDRESS", 10, int),
            session_cleanup_every_seconds=_number(env, "CENTRAL_SESSION_CLEANUP_EVERY_SECONDS", 3600, int),
            session_cleanup_after_seconds=_number(
                env, "CENTRAL_SESSION_CLEANUP_AFTER_SECONDS", 7 * 24 * 3600, int
            ),
            public_url_setting=env.get("CENTRAL_PUBLIC_URL") or None,
            tls=_tls(env),
        )


def _host_port(env: Mapping[str, str], name: str, default: str) -> HostPort:
    value = env.get(name) or default
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name}={value!r}: expected HOST:PORT, e.g. {default}")
    return HostPort(host.strip("[]"), int(port))


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    normalised = value.upper() if allowed[0].isupper() else value.lower()
    if normalised not in allowed:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return normalised


def _number(env: Mapping[str, str], name: str, default: T, kind: type[T]) -> T:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a {kind.__name__}") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive number")
    return value


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _cookie_name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not _TOKEN.match(value):
        raise ConfigError(f"{name}={value!r}: not a valid cookie name")
    return value


def _origins(env: Mapping[str, str], name: str) -> frozenset[str]:
    origins = frozenset(o.strip().rstrip("/") for o in (env.get(name) or "").split(",") if o.strip())
    for origin in origins:
        if not re.match(r"^https?://[^/\s]+$", origin):
            raise ConfigError(f"{name}: {origin!r} is not an origin like https://app.example.com")
    return origins


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    networks: list[str] = []
    for item in (env.get(name) or "").split(","):
        if not item.strip():
            continue
        try:
            networks.append(str(ipaddress.ip_network(item.strip())))
        except ValueError:
            raise ConfigError(
                f"{name}: {item.strip()!r} is not an address or network like 10.0.0.7 or 10.0.0.0/24"
            ) from None
    return tuple(networks)


_TLS_FILES = ("CENTRAL_TLS_CERT_FILE", "CENTRAL_TLS_KEY_FILE", "CENTRAL_TLS_CA_FILE")


def _tls(env: Mapping[str, str]) -> TlsSettings:
    plaintext_anywhere = _choice(env, "CENTRAL_TLS", "on", ("on", "off")) == "off"
    given = [name for name in _TLS_FILES if name in env]
    if not given:
        return TlsSettings(plaintext_anywhere=plaintext_anywhere)
    # Half a TLS setting must not quietly become plaintext.
    missing = [name for name in _TLS_FILES if not env.get(name)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: not set or empty; mutual TLS needs all of {', '.join(_TLS_FILES)}"
        )
    if plaintext_anywhere:
        raise ConfigError("CENTRAL_TLS=off and CENTRAL_TLS_*_FILE are both set: choose one")
    certificate, key, authority = (Path(env[name]) for name in _TLS_FILES)
    return TlsSettings(files=TlsFiles(certificate, key, authority))
