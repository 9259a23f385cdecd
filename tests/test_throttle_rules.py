"""The rules under the sign-in throttle, without a server: the client's address behind proxies,
CONCORD_TRUSTED_PROXIES, the delays' arithmetic, bounded memory, the device cookie."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from server.accounts.devices import MAX_ACCOUNTS, DeviceCookies
from server.accounts.throttle import Backoff, LoginThrottle, ReauthenticationLimit
from server.client_address import Network, client_address
from server.config import ConfigError
from server.errors import RateLimited
from server.settings import load_config
from server.signed_tokens import TokenSigner

SECRET = "a-test-secret-that-is-long-enough-1234567890"
PROXIES: tuple[Network, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("fd00::/8"),
)


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("198.51.100.7", ["203.0.113.1"], "198.51.100.7"),  # not a proxy: header ignored
        ("10.0.0.2", [], "10.0.0.2"),  # a proxy that sent no header is the client
        ("10.0.0.2", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.2", ["198.51.100.9, 203.0.113.1"], "203.0.113.1"),  # left part is a claim
        ("10.0.0.2", ["203.0.113.1, 10.0.0.3"], "203.0.113.1"),  # two proxies in a row
        ("10.0.0.2", ["203.0.113.1", "10.0.0.3"], "203.0.113.1"),  # header repeated
        ("10.0.0.2", ["10.0.0.4, 10.0.0.3"], "10.0.0.4"),  # only proxies: the furthest
        ("10.0.0.2", ["not-an-address, 10.0.0.3"], "10.0.0.3"),  # garbage: last named hop
        ("10.0.0.2", ["203.0.113.1:4711"], "203.0.113.1"),  # ports as some proxies add
        ("10.0.0.2", ["[2001:db8::1]:4711"], "2001:db8::1"),
        ("::ffff:10.0.0.2", ["2001:db8::1"], "2001:db8::1"),  # v4-mapped peer
        ("fd00::1", ["203.0.113.1"], "203.0.113.1"),
        (None, ["203.0.113.1"], ""),
    ],
)
def test_the_client_is_found_from_the_right_past_trusted_proxies(
    peer: str | None, headers: list[str], client: str
) -> None:
    assert client_address(peer, headers, PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address("127.0.0.1", ["203.0.113.1"], ()) == "127.0.0.1"


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"CONCORD_SECRET_KEY": SECRET, "CONCORD_DATA_DIR": str(tmp_path), **extra}


def test_trusted_proxies_are_read_and_a_bad_value_is_named(tmp_path: Path) -> None:
    assert load_config(environ=environ(tmp_path)).trusted_proxies == ()
    good = environ(tmp_path, CONCORD_TRUSTED_PROXIES=" 10.0.0.5, 192.168.0.0/16 ,fd00::/8")
    assert [str(n) for n in load_config(environ=good).trusted_proxies] == [
        "10.0.0.5/32",
        "192.168.0.0/16",
        "fd00::/8",
    ]
    for bad in ("10.0.0.0/33", "proxy.example", "10.0.0.1/8"):
        with pytest.raises(ConfigError) as caught:
            load_config(environ=environ(tmp_path, CONCORD_TRUSTED_PROXIES=f"10.0.0.5,{bad}"))
        (problem,) = caught.value.problems
        assert problem.startswith("CONCORD_TRUSTED_PROXIES: ") and repr(bad) in problem
    toml = tmp_path / "concord.toml"
    toml.write_text('trusted_proxies = ["10.1.0.0/16", 42]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"trusted_proxies: '42' is not an IP address"):
        load_config(environ=environ(tmp_path), config_file=toml)


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_the_cap() -> None:
    backoff = Backoff(free=4, base=2, cap=900)
    assert [backoff.wait(n) for n in range(1, 16)] == [
        0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900
    ]  # fmt: skip
    assert backoff.wait(10_000) == 900


def test_memory_stays_bounded_and_stale_keys_are_forgotten() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_keys=90, forget_after=3600, clock=lambda: now[0])
    for n in range(1000):  # a flood of invented accounts from invented addresses
        throttle.failed(f"user{n}@example.org", f"203.0.{n // 256}.{n % 256}")
        assert len(throttle) <= 90
    for _ in range(5):  # the newest keys survive eviction
        throttle.failed("owner@example.org", "192.0.2.1")
    assert throttle.retry_after("owner@example.org", "192.0.2.1") == 2
    assert len(throttle) == 90
    now[0] = 3601
    throttle.prune()
    assert len(throttle) == 0


def test_the_wait_counts_down_and_success_forgets_only_the_clients_own_failures() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(5):
        throttle.failed("Owner@Example.org", "192.0.2.1")
    assert throttle.retry_after("owner@example.org", "192.0.2.1") == 2
    now[0] = 1.5
    assert throttle.retry_after("owner@example.org", "192.0.2.1") == 1
    now[0] = 2
    throttle.check("owner@example.org", "192.0.2.1")  # may try now
    throttle.succeeded("owner@example.org", "192.0.2.1")
    assert len(throttle) == 2  # the address's and the account's counts stay


def test_reauthentication_stops_hard_after_five_failures_per_signatory() -> None:
    now = [0.0]
    limit = ReauthenticationLimit(clock=lambda: now[0])
    for _ in range(5):
        limit.check("user:7")
        limit.failed("user:7")
    with pytest.raises(RateLimited) as caught:
        limit.check("user:7")
    assert caught.value.headers["Retry-After"] == "900"
    limit.check("user:8")  # another signatory is not concerned
    now[0] = 900
    limit.check("user:7")  # the window has passed
    limit.prune()
    assert len(limit) == 0


def test_the_device_cookie_names_accounts_and_cannot_be_forged() -> None:
    devices = DeviceCookies(TokenSigner(SECRET), SECRET)
    cookie = devices.issue(None, "Owner@Example.org")
    device = devices.device(cookie, "owner@example.org")
    assert device and "owner" not in cookie.lower()  # a keyed hash, not the address
    assert devices.device(cookie, "someone@example.org") is None
    again = devices.issue(cookie, "other@example.org")
    assert devices.device(again, "owner@example.org") == device  # kept, same identifier
    assert devices.device(again, "other@example.org") not in (None, device)
    assert devices.device(again[:-2] + "xx", "owner@example.org") is None  # tampered
    other_server = DeviceCookies(TokenSigner(SECRET + "x"), SECRET + "x")
    assert other_server.device(cookie, "owner@example.org") is None
    many = None
    for n in range(MAX_ACCOUNTS + 2):
        many = devices.issue(many, f"user{n}@example.org")
    assert devices.device(many, "user0@example.org") is None  # the oldest made room
    assert devices.device(many, f"user{MAX_ACCOUNTS + 1}@example.org")
    expired = DeviceCookies(TokenSigner(SECRET), SECRET, clock=lambda: 10.0**10)
    assert expired.device(cookie, "owner@example.org") is None
