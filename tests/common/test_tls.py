"""gRPC between processes: mutual TLS with the certificates `central certs` makes, and plaintext on
loopback alone (common/grpc/tls.py, cli/certs.py)."""

from __future__ import annotations

import datetime
import logging
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2

from cli.certs import RENEW_BEFORE, VALIDITY, issue_all
from cli.healthcheck import grpc_ready
from cli.main import main
from common.config import Config, ConfigError, HostPort, TlsFiles, TlsSettings
from common.container import Container
from common.grpc.channels import open_channel, open_system_channel
from common.grpc.server import RunningServer, start_server
from common.grpc.tls import (
    LOOPBACK_PLAINTEXT,
    Identity,
    PlaintextRefusedError,
    Transport,
    is_loopback,
    own_address,
)

# The names the certificates carry: a server dialled as localhost, and two processes.
NAMES = ["localhost", "auth", "tenants"]


def files(folder: Path) -> TlsFiles:
    return TlsFiles(folder / "cert.pem", folder / "key.pem", folder / "ca.pem")


def transport(folder: Path) -> Transport:
    return Transport.from_settings(TlsSettings(files=files(folder)))


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    issue_all(directory, NAMES)
    return directory


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Certificates for the same names from another CA."""
    directory = tmp_path_factory.mktemp("other-ca")
    issue_all(directory, NAMES)
    return directory


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return Container.create(Config.from_env({"CENTRAL_HOME": str(tmp_path)}))


async def start(container: Container, name: str, certificates: Path) -> RunningServer:
    """A Central gRPC server (health only) holding `name`'s certificate."""
    return await start_server(
        "127.0.0.1:0", lambda server, guard: [], container.verifier, transport=transport(certificates / name)
    )


@pytest.fixture
async def localhost(container: Container, certificates: Path) -> AsyncIterator[RunningServer]:
    server = await start(container, "localhost", certificates)
    yield server
    await server.stop(grace=0)


async def check(channel: grpc.aio.Channel) -> int:
    """One unary rpc: the server's health; an AioRpcError when the call does not get through."""
    call = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    response = await call(health_pb2.HealthCheckRequest(), timeout=5)
    return int(response.status)


async def refused(channel: grpc.aio.Channel) -> grpc.StatusCode:
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await check(channel)
    return error.value.code()


async def test_two_processes_talk_over_mutual_tls(
    tmp_path: Path, localhost: RunningServer, certificates: Path
) -> None:
    # The auth process as compose configures it, its tenants server named localhost here.
    own = certificates / "auth"
    auth = Container.create(
        Config.from_env(
            {
                "CENTRAL_HOME": str(tmp_path),
                "CENTRAL_TENANTS_ADDR": f"localhost:{localhost.port}",
                "CENTRAL_TLS_CERT_FILE": str(own / "cert.pem"),
                "CENTRAL_TLS_KEY_FILE": str(own / "key.pem"),
                "CENTRAL_TLS_CA_FILE": str(own / "ca.pem"),
            }
        ),
        process="auth",
    )
    try:
        # What services and workers call with, and what the gateway calls with.
        serving = health_pb2.HealthCheckResponse.SERVING
        assert await check(auth.system_channel("tenants")) == serving
        assert await check(auth.channel(f"localhost:{localhost.port}")) == serving
    finally:
        await auth.close()


async def test_a_client_without_a_certificate_is_refused(
    localhost: RunningServer, certificates: Path
) -> None:
    authority = (certificates / "localhost" / "ca.pem").read_bytes()
    anonymous = grpc.aio.secure_channel(
        f"localhost:{localhost.port}", grpc.ssl_channel_credentials(root_certificates=authority)
    )
    assert await refused(anonymous) is grpc.StatusCode.UNAVAILABLE


async def test_a_client_whose_certificate_another_ca_signed_is_refused(
    localhost: RunningServer, certificates: Path, stranger: Path
) -> None:
    # It trusts the right CA, so only its own certificate can be what the server refuses.
    impostor = Transport(
        Identity(
            certificate=(stranger / "auth" / "cert.pem").read_bytes(),
            key=(stranger / "auth" / "key.pem").read_bytes(),
            authority=(certificates / "auth" / "ca.pem").read_bytes(),
        )
    )
    channel = open_channel(f"localhost:{localhost.port}", transport=impostor)
    assert await refused(channel) is grpc.StatusCode.UNAVAILABLE


async def test_a_plaintext_client_is_refused(localhost: RunningServer) -> None:
    channel = open_channel(f"localhost:{localhost.port}")
    assert await refused(channel) is grpc.StatusCode.UNAVAILABLE


async def test_a_client_refuses_a_server_of_another_ca_or_another_name(
    container: Container, certificates: Path, stranger: Path
) -> None:
    impostor = await start(container, "localhost", stranger)
    misnamed = await start(container, "tenants", certificates)
    try:
        client = transport(certificates / "auth")
        assert await refused(open_channel(f"localhost:{impostor.port}", transport=client)) is (
            grpc.StatusCode.UNAVAILABLE
        )
        # tenants' certificate is good, but not for the name dialled.
        assert await refused(open_channel(f"localhost:{misnamed.port}", transport=client)) is (
            grpc.StatusCode.UNAVAILABLE
        )
    finally:
        await impostor.stop(grace=0)
        await misnamed.stop(grace=0)


async def test_a_health_check_dials_its_own_process_over_tls_by_the_process_name(
    container: Container, certificates: Path
) -> None:
    tenants = await start(container, "tenants", certificates)
    try:
        own = own_address(HostPort("0.0.0.0", tenants.port))
        assert own == f"127.0.0.1:{tenants.port}"
        mine = transport(certificates / "tenants")
        assert await grpc_ready(own, transport=mine, server_name="tenants")
        assert not await grpc_ready(own, transport=mine, server_name="auth")
        assert not await grpc_ready(own)
    finally:
        await tenants.stop(grace=0)


async def test_an_operator_command_in_a_process_s_own_container_reaches_it_by_its_name(
    tmp_path: Path, container: Container, certificates: Path
) -> None:
    # Inside the tenants container, CENTRAL_TENANTS_ADDR is where tenants listens: 0.0.0.0.
    tenants = await start(container, "tenants", certificates)
    own = certificates / "tenants"
    operator = Container.create(
        Config.from_env(
            {
                "CENTRAL_HOME": str(tmp_path),
                "CENTRAL_TENANTS_ADDR": f"0.0.0.0:{tenants.port}",
                "CENTRAL_TLS_CERT_FILE": str(own / "cert.pem"),
                "CENTRAL_TLS_KEY_FILE": str(own / "key.pem"),
                "CENTRAL_TLS_CA_FILE": str(own / "ca.pem"),
            }
        )
    )
    try:
        serving = health_pb2.HealthCheckResponse.SERVING
        assert await check(operator.system_channel("tenants")) == serving
    finally:
        await operator.close()
        await tenants.stop(grace=0)


# Plaintext: loopback only.


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.7", "tenants", "localhost.example.com", ""])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("address", ["0.0.0.0:50051", "[::]:50051", "10.0.0.7:50051", "tenants:50051"])
async def test_plaintext_beyond_loopback_is_refused_both_ways(container: Container, address: str) -> None:
    with pytest.raises(PlaintextRefusedError, match="CENTRAL_TLS_CERT_FILE"):
        await start_server(address, lambda server, guard: [], container.verifier)
    with pytest.raises(PlaintextRefusedError, match="not a loopback address"):
        open_system_channel(address, container.system_signer.to("tenants"))


@pytest.mark.parametrize("address", ["127.0.0.1:50051", "[::1]:50051", "localhost:50051"])
async def test_plaintext_on_loopback_is_allowed(address: str) -> None:
    LOOPBACK_PLAINTEXT.check(address, "dial")
    await open_channel(address).close()


async def test_tls_off_allows_plaintext_anywhere_and_says_what_it_risks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    off = Transport.from_settings(Config.from_env({"CENTRAL_TLS": "off"}).tls)
    with caplog.at_level(logging.WARNING):
        await open_channel("tenants:50051", transport=off).close()
    assert "CENTRAL_TLS=off" in caplog.text and "replay" in caplog.text


def test_a_process_asked_to_listen_beyond_loopback_without_tls_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CENTRAL_HOME", str(tmp_path))
    monkeypatch.setenv("CENTRAL_TENANTS_ADDR", "0.0.0.0:50051")
    assert main(["serve", "tenants"]) == 2
    assert "refusing to listen on 0.0.0.0:50051 in plaintext" in capsys.readouterr().err


# The settings.


def test_no_tls_variable_is_plaintext_on_loopback() -> None:
    assert Config.from_env({}).tls == TlsSettings(files=None, plaintext_anywhere=False)


def test_the_three_files_are_mutual_tls() -> None:
    tls = Config.from_env(
        {
            "CENTRAL_TLS_CERT_FILE": "/c/cert.pem",
            "CENTRAL_TLS_KEY_FILE": "/c/key.pem",
            "CENTRAL_TLS_CA_FILE": "/c/ca.pem",
        }
    ).tls
    assert tls.files == TlsFiles(Path("/c/cert.pem"), Path("/c/key.pem"), Path("/c/ca.pem"))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CENTRAL_TLS_CERT_FILE": "/c/cert.pem", "CENTRAL_TLS_KEY_FILE": "/c/key.pem"},
            "CENTRAL_TLS_CA_FILE",
        ),
        (
            {
                "CENTRAL_TLS_CERT_FILE": "/c/cert.pem",
                "CENTRAL_TLS_KEY_FILE": "",
                "CENTRAL_TLS_CA_FILE": "/c/ca.pem",
            },
            "CENTRAL_TLS_KEY_FILE: not set or empty",
        ),
        ({"CENTRAL_TLS_CA_FILE": ""}, "CENTRAL_TLS_CERT_FILE, CENTRAL_TLS_KEY_FILE, CENTRAL_TLS_CA_FILE"),
        (
            {
                "CENTRAL_TLS": "off",
                "CENTRAL_TLS_CERT_FILE": "/c/cert.pem",
                "CENTRAL_TLS_KEY_FILE": "/c/key.pem",
                "CENTRAL_TLS_CA_FILE": "/c/ca.pem",
            },
            "choose one",
        ),
        ({"CENTRAL_TLS": "no"}, "expected one of on, off"),
    ],
)
def test_half_a_tls_setting_stops_the_process(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env)


def test_files_that_do_not_belong_together_stop_the_process(certificates: Path, stranger: Path) -> None:
    good = files(certificates / "auth")
    Identity.load(good)
    with pytest.raises(ConfigError, match=r"CENTRAL_TLS_KEY_FILE=.* is not the key of"):
        Identity.load(TlsFiles(good.certificate, certificates / "tenants" / "key.pem", good.authority))
    with pytest.raises(ConfigError, match="is not signed by CENTRAL_TLS_CA_FILE"):
        Identity.load(TlsFiles(good.certificate, good.key, stranger / "auth" / "ca.pem"))
    with pytest.raises(ConfigError, match=r"CENTRAL_TLS_CA_FILE=.*: not a PEM certificate"):
        Identity.load(TlsFiles(good.certificate, good.key, good.key))
    with pytest.raises(ConfigError, match=re.escape("CENTRAL_TLS_CERT_FILE=/nowhere/cert.pem: No such file")):
        Identity.load(TlsFiles(Path("/nowhere/cert.pem"), good.key, good.authority))


def test_an_operators_certificate_may_chain_to_the_ca_through_intermediates(tmp_path: Path) -> None:
    issue_all(tmp_path, [])
    root_key = serialization.load_pem_private_key((tmp_path / "ca" / "ca.key").read_bytes(), None)
    assert isinstance(root_key, ec.EllipticCurvePrivateKey)
    root = x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.pem").read_bytes())
    middle_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    middle = signed(middle_key, "intermediate", root.subject, root_key, ca=True)
    leaf = signed(leaf_key, "auth", middle.subject, middle_key, ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "key.pem").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "cert.pem").write_bytes(leaf.public_bytes(pem) + middle.public_bytes(pem))
    chained = TlsFiles(tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca" / "ca.pem")
    Identity.load(chained)
    (tmp_path / "cert.pem").write_bytes(leaf.public_bytes(pem))
    with pytest.raises(ConfigError, match="is not signed by CENTRAL_TLS_CA_FILE"):
        Identity.load(chained)


def signed(
    key: ec.EllipticCurvePrivateKey, name: str, issuer: x509.Name, by: ec.EllipticCurvePrivateKey, ca: bool
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(by, hashes.SHA256())
    )


# The certificates `central certs` makes.


def test_certs_run_again_keeps_what_is_good_and_keys_are_the_owners_alone(tmp_path: Path) -> None:
    assert issue_all(tmp_path, ["auth"]) == {"auth": "issued"}
    before = {path.name: path.read_bytes() for path in (tmp_path / "auth").iterdir()}
    assert issue_all(tmp_path, ["auth", "tenants"]) == {"auth": "kept", "tenants": "issued"}
    assert {path.name: path.read_bytes() for path in (tmp_path / "auth").iterdir()} == before
    for key in [tmp_path / "ca" / "ca.key", tmp_path / "auth" / "key.pem"]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # No process's folder holds the CA's key.
    assert sorted(path.name for path in (tmp_path / "tenants").iterdir()) == ["ca.pem", "cert.pem", "key.pem"]


def test_certs_renews_a_certificate_near_its_end_and_everything_under_a_new_ca(tmp_path: Path) -> None:
    issue_all(tmp_path, ["auth", "tenants"])
    later = datetime.datetime.now(datetime.UTC) + VALIDITY - RENEW_BEFORE + datetime.timedelta(days=1)
    assert issue_all(tmp_path, ["auth"], now=later) == {"auth": "issued"}
    (tmp_path / "ca" / "ca.key").unlink()
    assert issue_all(tmp_path, ["auth", "tenants"]) == {"auth": "issued", "tenants": "issued"}
    Identity.load(files(tmp_path / "tenants"))


def test_certs_is_a_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certs", "--dir", str(tmp_path)]) == 0
    assert "tenants: issued" in capsys.readouterr().out
    Identity.load(files(tmp_path / "gateway"))
