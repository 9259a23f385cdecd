"""Settings do what they say: each test sets one setting of the README's configuration table
by its environment variable, as an operator would, and shows its effect on a running app.

(Settings tested elsewhere are listed in the report of this change and in the README; this
module holds those that had no test of their effect.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from rooms.experience import Experience
from rooms.health import HealthTracker, Observation, grade_direction
from rooms.link_stats import Direction, LinkSample
from server.accounts.passwords import Passwords
from server.app import create_app
from server.config import Config, ConfigError
from server.db import Database
from server.keys import LIVE_ROOMS
from server.models import LoginSession, User
from server.monitoring.settings import health_settings
from server.settings import load_config
from tests.calendars.conftest import free_port
from tests.conftest import _TEST_ENVIRONMENT, ClientFactory, sign_in

Client = TestClient[Any, Any]
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def configured(tmp_path: Path, database_url: str, **settings: str) -> Config:
    """The test configuration, read from the environment with ``settings`` added."""
    return load_config(
        environ={
            **_TEST_ENVIRONMENT,
            "CONCORD_DATA_DIR": str(tmp_path / "data"),
            "CONCORD_DATABASE_URL": database_url,
            **settings,
        }
    )


async def app_with(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, **settings: str
) -> Client:
    return await aiohttp_client(create_app(configured(tmp_path, database_url, **settings)))


async def test_session_hours_is_how_long_a_sign_in_lasts(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    client = await app_with(aiohttp_client, tmp_path, database_url, CONCORD_SESSION_HOURS="2")
    started = dt.datetime.now(dt.UTC)
    await sign_in(client, "organiser@concord.example")
    cookie = next(c for c in client.session.cookie_jar if c.key == "concord_session")
    assert cookie["max-age"] == str(2 * 3600)
    async with demo.session() as db:
        expires = await db.scalar(select(LoginSession.expires_at).order_by(LoginSession.id.desc()))
    assert expires is not None
    lasts = expires.replace(tzinfo=dt.UTC) - started
    assert (
        dt.timedelta(hours=2) - dt.timedelta(minutes=1) < lasts <= dt.timedelta(hours=2, seconds=5)
    )


async def test_argon2_costs_are_the_stored_hashes_parameters(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    settings = {"CONCORD_ARGON2_TIME_COST": "2", "CONCORD_ARGON2_MEMORY_KIB": "2048"}
    config = configured(tmp_path, database_url, **settings)
    assert "$m=2048,t=2," in Passwords.from_config(config).hash("a passphrase of some length")
    async with demo.session() as db:
        before = await db.scalar(
            select(User.password_hash).where(User.email == "secretary@concord.example")
        )
    assert before is not None and "$m=1024,t=1," in before  # the test suite's costs
    # Signing in under the new costs re-hashes the stored password with them.
    client = await aiohttp_client(create_app(config))
    await sign_in(client, "secretary@concord.example")
    async with demo.session() as db:
        stored = await db.scalar(
            select(User.password_hash).where(User.email == "secretary@concord.example")
        )
    assert stored is not None and "$m=2048,t=2," in stored


async def test_an_https_public_url_makes_cookies_secure_and_links_absolute(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    public = "https://concord.example.org"
    client = await app_with(aiohttp_client, tmp_path, database_url, CONCORD_PUBLIC_URL=public)
    response = await client.post(
        "/api/session",
        json={"email": "organiser@concord.example", "password": "concord-organiser"},
    )
    assert response.status == 201
    cookies = response.headers.getall("Set-Cookie")
    assert any(c.startswith("concord_session=") and "Secure" in c for c in cookies)
    csrf = (await response.json())["csrf_token"]
    session = response.cookies["concord_session"].value
    made = await client.post(
        "/api/conferences/1/invitations",
        json={"site_id": 2, "role": "delegate"},
        headers={"X-CSRF-Token": csrf, "Cookie": f"concord_session={session}"},
    )
    assert made.status == 201, await made.text()
    assert (await made.json())["url"].startswith(public + "/join/")


async def test_the_secret_key_signs_invitation_links(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    first = await app_with(aiohttp_client, tmp_path, database_url)
    csrf = await sign_in(first, "organiser@concord.example")
    made = await first.post(
        "/api/conferences/1/invitations",
        json={"site_id": 2, "role": "delegate"},
        headers={"X-CSRF-Token": csrf},
    )
    url = (await made.json())["url"]
    path = url[url.index("/join/") :]
    other_key = "another-secret-key-" + "y" * 32
    second = await app_with(aiohttp_client, tmp_path, database_url, CONCORD_SECRET_KEY=other_key)
    assert (await second.get(path, allow_redirects=False)).status >= 400
    assert (await first.get(path, allow_redirects=False)).status == 303


async def test_ice_servers_reach_the_room_pages(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    stun = "stun:stun.concord.example:3478"
    client = await app_with(aiohttp_client, tmp_path, database_url, CONCORD_ICE_SERVERS=stun)
    await sign_in(client, "organiser@concord.example")
    for page in ("/conferences/1/console", "/conferences/1/room"):
        html = await (await client.get(page)).text()
        assert stun in html, page


def test_health_thresholds_grade_the_same_link_differently(
    tmp_path: Path, database_url: str
) -> None:
    loose = health_settings(configured(tmp_path, database_url)).thresholds
    strict = health_settings(
        configured(
            tmp_path,
            database_url,
            CONCORD_HEALTH_LOSS_FAIR_PERCENT="0.1",
            CONCORD_HEALTH_LOSS_POOR_PERCENT="0.5",
            CONCORD_HEALTH_JITTER_MS="10",
            CONCORD_HEALTH_RTT_MS="100",
            CONCORD_HEALTH_DOWN_SECONDS="2",
            CONCORD_HEALTH_ALERT_SECONDS="4",
        )
    ).thresholds
    lossy = Direction(0.006, 0.005, None, 100)  # 0.6 % loss
    assert grade_direction(lossy, 0.02, loose) == "good"
    assert grade_direction(lossy, 0.02, strict) == "poor"
    slightly = Direction(0.002, 0.005, None, 100)  # 0.2 % loss
    assert grade_direction(slightly, 0.02, strict) == "fair"
    jittery = Direction(0.0, 0.02, None, 100)  # 20 ms
    assert grade_direction(jittery, 0.02, loose) == "good"
    assert grade_direction(jittery, 0.02, strict) == "fair"
    assert grade_direction(Direction(0.0, 0.005, None, 100), 0.2, strict) == "fair"  # 200 ms
    assert HealthTracker(strict).thresholds.down_after == 2.0
    assert HealthTracker(loose).thresholds.down_after == 5.0
    assert (HealthTracker(strict).thresholds.poor_for, loose.poor_for) == (4.0, 10.0)


def test_experience_thresholds_grade_the_same_experience_differently(
    tmp_path: Path, database_url: str
) -> None:
    loose = health_settings(configured(tmp_path, database_url)).thresholds
    strict = health_settings(
        configured(
            tmp_path,
            database_url,
            CONCORD_HEALTH_EXPERIENCE_SECONDS="60",
            CONCORD_HEALTH_CONCEALED_FAIR_PERCENT="0.5",
            CONCORD_HEALTH_CONCEALED_POOR_PERCENT="2",
            CONCORD_HEALTH_FROZEN_FAIR_PERCENT="1",
            CONCORD_HEALTH_FROZEN_POOR_PERCENT="2",
            CONCORD_HEALTH_RECONNECTIONS_FAIR="2",
            CONCORD_HEALTH_RECONNECTIONS_POOR="2",
        )
    ).thresholds
    assert (loose.experience_window, strict.experience_window) == (30.0, 60.0)
    both = Direction(0.0, 0.005, 1e6, 100)  # uplink and downlink alike
    link = LinkSample(0.0, "connected", 0.02, both, both, 25.0, 0, 0, 0.0, 40)
    cases = [
        (Experience(concealed=0.01), "good", "fair"),
        (Experience(concealed=0.025), "good", "poor"),
        (Experience(freezes=1, frozen_seconds=0.6, window=30.0), "good", "poor"),
        (Experience(reconnections=1), "fair", "good"),
        (Experience(reconnections=2), "fair", "poor"),
    ]
    for lived, at_loose, at_strict in cases:
        found = []
        for thresholds in (loose, strict):
            tracker = HealthTracker(thresholds)
            tracker.update([Observation("site:1", link, experience=lived)], now=0.0)
            found.append(tracker.health()[0].level)
        assert found == [at_loose, at_strict], lived


def test_experience_thresholds_out_of_order_are_refused(tmp_path: Path, database_url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        configured(
            tmp_path,
            database_url,
            CONCORD_HEALTH_CONCEALED_FAIR_PERCENT="12",
            CONCORD_HEALTH_CONCEALED_POOR_PERCENT="5",
            CONCORD_HEALTH_RECONNECTIONS_FAIR="1.5",
            CONCORD_HEALTH_EXPERIENCE_SECONDS="1",
        )
    problems = caught.value.problems
    assert "the poor concealed threshold must not be below the fair one" in problems
    assert "the reconnection thresholds must be whole numbers" in problems
    assert any(
        "CONCORD_HEALTH_EXPERIENCE_SECONDS must be between 4 and 3600" in p for p in problems
    )


class Logins:
    """An SMTP server that wants a login, and remembers who logged in."""

    def __init__(self) -> None:
        self.port = free_port()
        self.logins: list[tuple[str, str]] = []
        self.mails: list[list[str]] = []

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == ("concord", "mail-secret"))

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.mails.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def logins() -> Iterator[Logins]:
    box = Logins()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=box,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


async def test_smtp_username_and_password_log_in(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    database_url: str,
    demo: Database,
    logins: Logins,
) -> None:
    mail = {
        "CONCORD_SMTP_HOST": "127.0.0.1",
        "CONCORD_SMTP_PORT": str(logins.port),
        "CONCORD_SMTP_SECURITY": "none",
        "CONCORD_SMTP_FROM": "Concord <concord@concord.example>",
    }
    path = "/api/conferences/2/calendar-invitations"
    for password, sent in (("wrong", False), ("mail-secret", True)):
        settings = {**mail, "CONCORD_SMTP_USERNAME": "concord", "CONCORD_SMTP_PASSWORD": password}
        client = await app_with(aiohttp_client, tmp_path, database_url, **settings)
        csrf = await sign_in(client, "organiser@concord.example")
        answer = await client.post(path, headers={"X-CSRF-Token": csrf})
        assert logins.logins[-1] == ("concord", password)
        assert (answer.status == 200) is sent, await answer.text()
    assert logins.mails, "with the right password the invitations went out"


ROOT = Path(__file__).resolve().parents[1]


def launch(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m server serve`` with ``env`` and no options, its output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def test_host_and_port_are_where_serve_listens(tmp_path: Path, database_url: str) -> None:
    """``concord serve`` with only the environment (no --host/--port) answers there."""
    port = free_port()
    env = {
        **os.environ,
        **_TEST_ENVIRONMENT,
        "CONCORD_DATA_DIR": str(tmp_path / "data"),
        "CONCORD_DATABASE_URL": database_url,
        "CONCORD_HOST": "127.0.0.1",
        "CONCORD_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "serve.log"
    process = launch(env, log)
    try:
        deadline, status = time.monotonic() + 60, 0
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and status != 200:
                assert process.poll() is None, log.read_text()[-3000:]
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                        status = answer.status
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
        assert status == 200, log.read_text()[-3000:]
        assert f"serving on http://127.0.0.1:{port}" in log.read_text()
    finally:
        stop(process)


async def test_health_thresholds_reach_the_live_room(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    settings = {"CONCORD_HEALTH_RTT_MS": "120", "CONCORD_HEALTH_DOWN_SECONDS": "3"}
    client = await app_with(aiohttp_client, tmp_path, database_url, **settings)
    room = await client.app[LIVE_ROOMS].room(2)
    thresholds = room.health.tracker.thresholds
    assert (thresholds.rtt, thresholds.down_after) == (0.12, 3.0)
