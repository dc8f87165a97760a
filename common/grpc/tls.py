"""How Central's processes protect gRPC between them: THE rules.

With certificates (CENTRAL_TLS_CERT_FILE, _KEY_FILE, _CA_FILE), mutual TLS: a server accepts only
clients whose certificate the CA signed, a client accepts only the server whose certificate the CA
signed for the name it dialled. Without them, plaintext, and only on loopback: a process asked to
listen on, or dial, any other address refuses to start, unless CENTRAL_TLS=off says the network
protects itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from common.config import ConfigError, HostPort, TlsFiles, TlsSettings
from common.logs import get_logger

logger = get_logger("tls")

PLAINTEXT_RISK = (
    "anyone on that network reads every request, including the signed principals it could replay "
    "until they expire, and can pose as any Central process"
)


class PlaintextRefusedError(ConfigError):
    """Plaintext gRPC was asked for on an address other than loopback."""


# A process listening on every interface is reached from its own machine through loopback.
_EVERY_INTERFACE = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def own_address(listening: HostPort) -> str:
    """Where a process listening at `listening` is reached from its own container."""
    host = _EVERY_INTERFACE.get(listening.host, listening.host)
    return f"[{host}]:{listening.port}" if ":" in host else f"{host}:{listening.port}"


def route_to(process: str, address: HostPort) -> tuple[str, str | None]:
    """What to dial for `process` configured at `address`, and the name its certificate must then
    carry: inside that process's own container its address is the one it listens on (0.0.0.0),
    which names no host, so it is dialled through loopback and checked by the process's name."""
    if address.host in _EVERY_INTERFACE:
        return own_address(address), process
    return str(address), None


def host_of(address: str) -> str:
    """The host of HOST:PORT (an IPv6 host in brackets or not)."""
    host = address.rpartition(":")[0] if ":" in address else address
    return host.strip("[]")


def is_loopback(host: str) -> bool:
    """Only this machine reaches it. A name other than `localhost` may resolve anywhere."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Identity:
    """This process's certificate and key and the CA of every process, as PEM, checked once."""

    certificate: bytes
    key: bytes
    authority: bytes

    @classmethod
    def load(cls, files: TlsFiles) -> Identity:
        certificate, key, authority = (
            _read(path, name)
            for path, name in (
                (files.certificate, "CENTRAL_TLS_CERT_FILE"),
                (files.key, "CENTRAL_TLS_KEY_FILE"),
                (files.authority, "CENTRAL_TLS_CA_FILE"),
            )
        )
        # Mistakes gRPC would report only as a failed handshake, found at start-up instead.
        try:
            own, *intermediates = x509.load_pem_x509_certificates(certificate)
        except ValueError:
            raise ConfigError(f"CENTRAL_TLS_CERT_FILE={files.certificate}: not a PEM certificate") from None
        try:
            private = serialization.load_pem_private_key(key, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ConfigError(f"CENTRAL_TLS_KEY_FILE={files.key}: not an unencrypted PEM key") from None
        try:
            authorities = x509.load_pem_x509_certificates(authority)
        except ValueError:
            raise ConfigError(f"CENTRAL_TLS_CA_FILE={files.authority}: not a PEM certificate") from None
        if private.public_key() != own.public_key():
            raise ConfigError(
                f"CENTRAL_TLS_KEY_FILE={files.key} is not the key of "
                f"CENTRAL_TLS_CERT_FILE={files.certificate}"
            )
        if not _chains_to(own, intermediates, authorities):
            raise ConfigError(
                f"CENTRAL_TLS_CERT_FILE={files.certificate} is not signed by CENTRAL_TLS_CA_FILE="
                f"{files.authority} (nor through the intermediates that follow it in its file)"
            )
        return cls(certificate, key, authority)


def _chains_to(
    certificate: x509.Certificate, intermediates: list[x509.Certificate], authorities: list[x509.Certificate]
) -> bool:
    """Whether a CA of `authorities` signed `certificate`, directly or through `intermediates`."""
    if any(_issued(certificate, by) for by in authorities):
        return True
    return any(
        _chains_to(issuer, [c for c in intermediates if c is not issuer], authorities)
        for issuer in intermediates
        if _issued(certificate, issuer)
    )


def _issued(certificate: x509.Certificate, by: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(by)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _read(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{name}={path}: {error.strerror or error}") from None


@dataclass(frozen=True)
class Transport:
    """What every gRPC port and channel of one process is: mutual TLS with `identity`, or plaintext."""

    identity: Identity | None = None
    plaintext_anywhere: bool = False

    @classmethod
    def from_settings(cls, settings: TlsSettings) -> Transport:
        identity = Identity.load(settings.files) if settings.files else None
        return cls(identity, settings.plaintext_anywhere)

    @property
    def tls(self) -> bool:
        return self.identity is not None

    def check(self, address: str, action: str) -> None:
        """Refuse plaintext to or from `address` unless it is loopback (or the operator said off)."""
        if self.identity is not None or is_loopback(host_of(address)):
            return
        if self.plaintext_anywhere:
            logger.warning("plaintext gRPC (CENTRAL_TLS=off) to %s: %s", address, PLAINTEXT_RISK)
            return
        raise PlaintextRefusedError(
            f"refusing to {action} {address} in plaintext: it is not a loopback address and "
            "CENTRAL_TLS_CERT_FILE, CENTRAL_TLS_KEY_FILE and CENTRAL_TLS_CA_FILE are not set. "
            f"Give the certificates (mutual TLS), or set CENTRAL_TLS=off if the network is "
            f"private and you accept that {PLAINTEXT_RISK}."
        )

    def listen(self, server: grpc.aio.Server, address: str) -> int:
        """Add the port `address` to `server`; with TLS, only clients the CA vouches for get in."""
        if self.identity is None:
            self.check(address, "listen on")
            return server.add_insecure_port(address)
        credentials = grpc.ssl_server_credentials(
            [(self.identity.key, self.identity.certificate)],
            root_certificates=self.identity.authority,
            require_client_auth=True,
        )
        return server.add_secure_port(address, credentials)

    def dial(
        self,
        address: str,
        options: Sequence[tuple[str, Any]],
        interceptors: Sequence[Any] = (),
        server_name: str | None = None,
    ) -> grpc.aio.Channel:
        """A channel to `address`. With TLS the server must hold a certificate for the host dialled,
        or for `server_name` when the address is not its name (a health check dialling itself)."""
        chosen = list(interceptors) or None
        if self.identity is None:
            self.check(address, "dial")
            return grpc.aio.insecure_channel(address, options=list(options), interceptors=chosen)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.identity.authority,
            private_key=self.identity.key,
            certificate_chain=self.identity.certificate,
        )
        named = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        return grpc.aio.secure_channel(address, credentials, options=[*options, *named], interceptors=chosen)


# Tests, benchmarks and `central up` on one machine: plaintext, loopback only.
LOOPBACK_PLAINTEXT = Transport()
