"""`central certs --dir DIR`: a private CA and one certificate per process, for mutual TLS.

The layout, so that each container mounts only its own folder (ca.pem, cert.pem, key.pem):

    DIR/ca/ca.pem, DIR/ca/ca.key       the CA; no process mounts it
    DIR/NAME/ca.pem, cert.pem, key.pem one per process, NAME its container's name

Run again, it keeps what is still good: the CA, and each certificate the CA signed for that name
that has more than RENEW_BEFORE left. A process reads its files when it starts.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(days=3650)
VALIDITY = datetime.timedelta(days=365)
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def issue_all(directory: Path, names: Iterable[str], now: datetime.datetime | None = None) -> dict[str, str]:
    """Make what is missing under `directory`; returns, per name, "issued" or "kept"."""
    now = now or datetime.datetime.now(datetime.UTC)
    authority, new_authority = _authority(directory / "ca", now)
    outcome: dict[str, str] = {}
    for name in names:
        folder = directory / name
        keep = not new_authority and _still_good(folder, name, authority, now)
        if not keep:
            key = ec.generate_private_key(ec.SECP256R1())
            _write(folder / "key.pem", _private_pem(key), secret=True)
            _write(folder / "cert.pem", _pem(_leaf(name, key, authority, now)))
        _write(folder / "ca.pem", _pem(authority.certificate))
        outcome[name] = "kept" if keep else "issued"
    return outcome


def _authority(folder: Path, now: datetime.datetime) -> tuple[Authority, bool]:
    certificate_path, key_path = folder / "ca.pem", folder / "ca.key"
    if certificate_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path}: not the EC key this command makes")
        return Authority(x509.load_pem_x509_certificate(certificate_path.read_bytes()), key), False
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Central processes CA")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _private_pem(key), secret=True)
    _write(certificate_path, _pem(certificate))
    return Authority(certificate, key), True


def _leaf(
    name: str, key: ec.EllipticCurvePrivateKey, authority: Authority, now: datetime.datetime
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([_general_name(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        # Each process is a server to its callers and a client of the processes it calls.
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False
        )
        .sign(authority.key, hashes.SHA256())
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _still_good(folder: Path, name: str, authority: Authority, now: datetime.datetime) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
        key = serialization.load_pem_private_key((folder / "key.pem").read_bytes(), password=None)
        certificate.verify_directly_issued_by(authority.certificate)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return (
        key.public_key() == certificate.public_key()
        and list(names) == [_general_name(name)]
        and certificate.not_valid_after_utc - now > RENEW_BEFORE
    )


def _write(path: Path, content: bytes, secret: bool = False) -> None:
    """Whole or not at all; a key readable by its owner alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)  # a left-over would keep its own permissions
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.replace(partial, path)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


async def certs(directory: Path, names: Iterable[str]) -> int:
    for name, outcome in issue_all(directory, names).items():
        print(f"{name}: {outcome}")
    return 0
