import pytest

from common.config import Config, ConfigError


def test_defaults_match_the_public_contract() -> None:
    config = Config.from_env({})
    assert str(config.gateway_addr) == "127.0.0.1:8080"
    assert str(config.tenants_addr) == "127.0.0.1:50051"
    assert str(config.auth_addr) == "127.0.0.1:50052"
    assert str(config.temporal_addr) == "127.0.0.1:7233"
    assert config.temporal_namespace == "default"
    assert config.database_url is None
    assert config.home.name == ".central"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CENTRAL_GATEWAY_ADDR", "localhost"),
        ("CENTRAL_TENANTS_ADDR", "127.0.0.1:99999"),
        ("CENTRAL_AUTH_ADDR", ":50052"),
        ("CENTRAL_LOG_LEVEL", "LOUD"),
        ("CENTRAL_RPC_TIMEOUT_SECONDS", "soon"),
        ("CENTRAL_DB_POOL_MAX_SIZE", "0"),
        ("CENTRAL_TRUSTED_PROXIES", "10.0.0.1,*"),
        ("CENTRAL_TRUSTED_PROXIES", "proxy.internal"),
        ("CENTRAL_TRUSTED_PROXIES", "10.0.0.1/8"),
    ],
)
def test_a_bad_value_is_named_in_the_error(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_trusted_proxies_are_none_unless_named() -> None:
    assert Config.from_env({}).trusted_proxies == ()
    named = Config.from_env({"CENTRAL_TRUSTED_PROXIES": " 10.0.0.7, 172.16.0.0/12 ,::1"})
    assert named.trusted_proxies == ("10.0.0.7/32", "172.16.0.0/12", "::1/128")
