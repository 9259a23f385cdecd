"""Configuration: defaults, precedence, and clear messages for every wrong setting."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.config import ConfigError
from server.monitoring.settings import health_settings
from server.settings import load_config


def test_defaults_use_the_data_dir_and_generate_a_secret(tmp_path: Path) -> None:
    config = load_config(environ={"CONCORD_DATA_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'concord.db'}"
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert config.public_url == "http://127.0.0.1:8080"
    assert config.ice_host_addresses == ("127.0.0.1",)
    assert config.redis_url is None
    secret_file = tmp_path / "secret_key"
    assert secret_file.read_text().strip() == config.secret_key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    again = load_config(environ={"CONCORD_DATA_DIR": str(tmp_path)})
    assert again.secret_key == config.secret_key, "the stored secret is reused"


def test_ice_hosts_default_to_all_interfaces_off_loopback(tmp_path: Path) -> None:
    config = load_config(environ={"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_HOST": "0.0.0.0"})
    assert config.ice_host_addresses == ()
    listed = load_config(
        environ={"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1, ::1"}
    )
    assert listed.ice_host_addresses == ("127.0.0.1", "::1")


def test_environment_overrides_the_toml_file(tmp_path: Path) -> None:
    file = tmp_path / "concord.toml"
    file.write_text(
        'port = 9000\nhost = "127.0.0.1"\npublic_url = "https://concord.example.org"\n'
        'ice_servers = [{urls = ["turn:turn.example.org:3478"], username = "u", '
        'credential = "p"}]\n'
    )
    config = load_config(
        environ={"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_PORT": "9100"}, config_file=file
    )
    assert config.port == 9100
    assert config.public_url == "https://concord.example.org"
    assert config.secure_cookies
    assert config.ice_servers[0].as_dict() == {
        "urls": ["turn:turn.example.org:3478"],
        "username": "u",
        "credential": "p",
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONCORD_PORT": "eighty"}, "CONCORD_PORT must be a whole number, got 'eighty'"),
        ({"CONCORD_PORT": "70000"}, "CONCORD_PORT must be between 1 and 65535, got 70000"),
        ({"CONCORD_DATABASE_URL": "mysql://x/y"}, "database URL 'mysql://x/y' is not supported"),
        ({"CONCORD_REDIS_URL": "http://x"}, "Redis URL 'http://x' must start with redis://"),
        ({"CONCORD_SECRET_KEY": "short"}, "secret key must be at least 32 characters"),
        ({"CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1,eth0"}, "'eth0' is not an IP address"),
        ({"CONCORD_ICE_SERVERS": "http://stun.example"}, "is not a stun:, stuns:, turn: or turns:"),
        ({"CONCORD_ICE_SERVERS": "turn:turn.example"}, "a TURN server needs 'username'"),
        ({"CONCORD_ICE_SERVERS": "[{bad json"}, "CONCORD_ICE_SERVERS is not valid JSON"),
        ({"CONCORD_PUBLIC_URL": "concord.example"}, "must be an absolute http:// or https://"),
        ({"CONCORD_FLOOR_ORDER": "loudest"}, "floor order 'loudest' must be 'precedence' or"),
        (
            {"CONCORD_METRICS_ALLOW": "10.0.0.0/8,10.0.0.300/32"},
            "CONCORD_METRICS_ALLOW: '10.0.0.300/32' is not an IP address or network",
        ),
        ({"CONCORD_METRICS_TOKEN": "short"}, "the metrics token must be at least 16 characters"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"CONCORD_DATA_DIR": str(tmp_path), **env})
    assert message in str(caught.value)
    assert not (tmp_path / "secret_key").exists(), "a refused configuration writes nothing"


def test_metrics_access_settings(tmp_path: Path) -> None:
    default = load_config(environ={"CONCORD_DATA_DIR": str(tmp_path)})
    assert health_settings(default).metrics_allow == ("127.0.0.1/32", "::1/128")
    assert health_settings(default).metrics_token is None
    token = "t" * 16
    config = load_config(
        environ={
            "CONCORD_DATA_DIR": str(tmp_path),
            "CONCORD_METRICS_ALLOW": " 10.1.2.3/8, 2001:db8::1 ,",
            "CONCORD_METRICS_TOKEN": token,
        }
    )
    assert health_settings(config).metrics_allow == ("10.0.0.0/8", "2001:db8::1/128")
    assert health_settings(config).metrics_token == token


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            environ={
                "CONCORD_PORT": "x",
                "CONCORD_REDIS_URL": "ftp://r",
                "CONCORD_DATA_DIR": str(tmp_path),
            }
        )
    assert len(caught.value.problems) == 2


def test_toml_file_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(environ={}, config_file=broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_config(environ={"CONCORD_DATA_DIR": str(tmp_path)}, config_file=unknown)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(environ={}, config_file=tmp_path / "missing.toml")
