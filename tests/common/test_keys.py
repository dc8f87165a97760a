"""Keys handled as keys: a bad one stops the process, a development one is owner-only."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cli.main import main
from common.config import ConfigError
from common.crypto import encryption_keys
from common.keys import (
    Issuer,
    SigningKey,
    check_keys,
    load_secret,
    load_secrets,
    load_signing_key,
    load_trusted_keys,
    parse_trusted_keys,
)
from common.principal import SYSTEM, PrincipalSigner, PrincipalVerifier

GOOD = base64.b64encode(os.urandom(32)).decode()
SHORT = base64.b64encode(os.urandom(16)).decode()

# Every way a key is loaded, by its variable.
LOADERS: dict[str, Callable[[Path, dict[str, str]], object]] = {
    "CENTRAL_SIGNING_KEY": lambda home, env: load_secret(home, env),
    "CENTRAL_ENCRYPTION_KEY": lambda home, env: encryption_keys(home, env),
    "CENTRAL_GATEWAY_SIGNING_KEY": lambda home, env: load_signing_key(Issuer.GATEWAY, home, env),
    "CENTRAL_SYSTEM_SIGNING_KEY": lambda home, env: load_signing_key(Issuer.SYSTEM, home, env),
    "CENTRAL_TRUSTED_KEYS": lambda home, env: load_trusted_keys(home, env),
}


@pytest.mark.parametrize("variable", sorted(LOADERS))
@pytest.mark.parametrize("value", ["", "  \n"])
def test_a_key_variable_set_but_empty_stops_the_process(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{variable} is set but empty"):
        LOADERS[variable](tmp_path, {variable: value})
    # Never a development key in its place.
    assert not list(tmp_path.glob("*.key"))


@pytest.mark.parametrize("variable", sorted(LOADERS))
def test_a_key_file_variable_set_but_empty_or_naming_an_empty_file_stops_the_process(
    tmp_path: Path, variable: str
) -> None:
    with pytest.raises(ConfigError, match=f"{variable}_FILE is set but empty"):
        LOADERS[variable](tmp_path, {f"{variable}_FILE": ""})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        LOADERS[variable](tmp_path, {f"{variable}_FILE": str(empty)})
    with pytest.raises(ConfigError, match="cannot read"):
        LOADERS[variable](tmp_path, {f"{variable}_FILE": str(tmp_path / "missing")})
    assert not list(tmp_path.glob("*.key"))


@pytest.mark.parametrize("variable", sorted(set(LOADERS) - {"CENTRAL_TRUSTED_KEYS"}))
def test_a_key_too_short_or_not_base64_stops_the_process(tmp_path: Path, variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        LOADERS[variable](tmp_path, {variable: SHORT})
    with pytest.raises(ConfigError, match="base64"):
        LOADERS[variable](tmp_path, {variable: "not base64!"})


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "signing"
    key_file.write_text(GOOD)
    with pytest.raises(ConfigError, match="both set"):
        load_secret(tmp_path, {"CENTRAL_SIGNING_KEY": GOOD, "CENTRAL_SIGNING_KEY_FILE": str(key_file)})


@pytest.mark.parametrize("variable", ["CENTRAL_SIGNING_KEY", "CENTRAL_ENCRYPTION_KEY"])
def test_previous_keys_are_read_beside_the_current_one_with_the_same_checks(
    tmp_path: Path, variable: str
) -> None:
    previous = variable.removesuffix("_KEY") + "_PREVIOUS_KEYS"
    other = base64.b64encode(os.urandom(32)).decode()
    current, earlier = load_secrets(
        tmp_path, {variable: GOOD, previous: f"{other}, {GOOD}"}, variable=variable
    )
    assert (current, earlier) == (base64.b64decode(GOOD), (base64.b64decode(other), base64.b64decode(GOOD)))
    assert load_secrets(tmp_path, {variable: GOOD}, variable=variable)[1] == ()
    with pytest.raises(ConfigError, match=previous):
        load_secrets(tmp_path, {variable: GOOD, previous: SHORT}, variable=variable)


def test_a_key_file_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / "signing"
    key_file.write_text(GOOD + "\n")
    assert load_secret(tmp_path, {"CENTRAL_SIGNING_KEY_FILE": str(key_file)}) == base64.b64decode(GOOD)


def test_development_keys_are_made_once_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    check_keys(home, {})
    made = sorted(p.name for p in home.iterdir())
    assert made == ["gateway-signing.key", "signing.key", "system-signing.key"]
    for path in home.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = {p.name: p.read_text() for p in home.iterdir()}
    check_keys(home, {})
    assert {p.name: p.read_text() for p in home.iterdir()} == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_development_key_others_may_read_is_refused_not_used(tmp_path: Path, mode: int) -> None:
    check_keys(tmp_path, {})
    (tmp_path / "system-signing.key").chmod(mode)
    with pytest.raises(ConfigError, match="readable by others"):
        load_signing_key(Issuer.SYSTEM, tmp_path, {})
    # The trusted keys of development are read from the same files, with the same check.
    with pytest.raises(ConfigError, match="readable by others"):
        load_trusted_keys(tmp_path, {})


def test_a_development_key_file_gets_the_same_checks_as_a_variable(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    path.write_text(SHORT)
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="too short"):
        load_secret(tmp_path, {})
    path.write_text(base64.b64encode(os.urandom(48)).decode())
    seed = tmp_path / "gateway-signing.key"
    seed.write_text(base64.b64encode(os.urandom(48)).decode())
    seed.chmod(0o600)
    with pytest.raises(ConfigError, match="32-byte seed"):
        load_signing_key(Issuer.GATEWAY, tmp_path, {})


def test_development_trusted_keys_are_the_public_halves_of_the_development_keys(tmp_path: Path) -> None:
    trusted = load_trusted_keys(tmp_path, {})
    assert {key.issuer for key in trusted.values()} == {Issuer.GATEWAY, Issuer.SYSTEM}
    signer = PrincipalSigner(load_signing_key(Issuer.SYSTEM, tmp_path, {}))
    assert PrincipalVerifier(trusted, "tenants").verify(signer.sign(SYSTEM, "tenants")) == SYSTEM


def public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def test_the_trusted_keys_list_names_each_keys_issuer() -> None:
    gateway, system, next_gateway = (Ed25519PrivateKey.generate() for _ in range(3))
    text = f"""# rotating the gateway's key
    gateway:{public(gateway)}, gateway:{public(next_gateway)}
    system:{public(system)}
    """
    keys = parse_trusted_keys(text)
    assert [key.issuer for key in keys] == [Issuer.GATEWAY, Issuer.GATEWAY, Issuer.SYSTEM]
    assert keys[2].key_id == SigningKey(Issuer.SYSTEM, system).key_id
    assert parse_trusted_keys(" ".join(key.line() for key in keys)) == keys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# nothing", "lists no key"),
        (f"root:{GOOD}", "names no issuer"),
        (f"gateway:{SHORT}", "32 bytes"),
        ("gateway:???", "base64"),
    ],
)
def test_a_bad_trusted_keys_list_stops_the_process(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_trusted_keys(text)


def test_a_key_trusted_for_two_issuers_is_refused() -> None:
    key = public(Ed25519PrivateKey.generate())
    with pytest.raises(ConfigError, match="two issuers"):
        parse_trusted_keys(f"gateway:{key} system:{key}")


def test_the_gateway_with_an_empty_key_variable_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CENTRAL_HOME", str(tmp_path))
    monkeypatch.setenv("CENTRAL_GATEWAY_SIGNING_KEY", "")
    assert main(["serve", "gateway"]) == 2
    assert "CENTRAL_GATEWAY_SIGNING_KEY is set but empty" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.key"))


def test_the_gateway_reads_no_key_but_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from common.config import Config
    from common.container import Container
    from services.gateway.server import build_app

    for name in ("CENTRAL_SIGNING_KEY", "CENTRAL_SYSTEM_SIGNING_KEY", "CENTRAL_TRUSTED_KEYS"):
        # Were the gateway to read any of these, it would stop here.
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("CENTRAL_GATEWAY_SIGNING_KEY", GOOD)
    build_app(Container.create(Config.from_env({"CENTRAL_HOME": str(tmp_path)}), "gateway"))
    assert not list(tmp_path.glob("*.key"))
