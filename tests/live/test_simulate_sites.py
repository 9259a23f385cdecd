"""``concord simulate-sites``: synthetic sites through invitation links, admitted by the
operator's console when the operator may chair, and a report per site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.config import Config
from server.live.simulate_cli import failed, simulate
from tests.conftest import sign_in

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[2]


async def api_token(client: Any) -> str:
    """A technician's API token, made in a browser session of its own."""
    from aiohttp import CookieJar
    from aiohttp.test_utils import TestClient

    own: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    try:
        csrf = await sign_in(own, "technician@concord.example")
        made = await own.post(
            "/api/tokens", json={"name": "simulate"}, headers={"X-CSRF-Token": csrf}
        )
        token = (await made.json())["token"]
    finally:
        await own.session.close()  # closing the client would stop the shared server
    assert isinstance(token, str)
    return token


@SQLITE
async def test_simulated_sites_fill_the_room_and_report(
    live: dict[str, Any], config: Config
) -> None:
    client = live["client"]
    token = await api_token(client)
    reports = await simulate(config, 2, 3, 6.0, str(client.make_url("")).rstrip("/"), token)
    assert [r.site for r in reports] == [
        "Main hall",
        "Quang Ngai City People's Committee",
        "Duc Pho town People's Committee",
    ]
    for report in reports:
        line = json.loads(report.line())
        assert set(line) == {
            "site",
            "frames_received",
            "fps",
            "audio_packets_received",
            "packets_lost",
            "reconnects",
            "longest_media_gap_s",
            "revoked",
        }
        assert report.frames_received > 20 and report.fps > 10, report
        assert report.reconnects == 0 and report.revoked is None, report
        assert report.longest_media_gap_s < 1.0, report
        assert report.audio_packets_received > 100, report
    assert failed(reports) == []


@SQLITE
async def test_without_admission_the_report_flags_every_site(
    live: dict[str, Any], config: Config
) -> None:
    client = live["client"]
    reports = await simulate(config, 2, 2, 2.0, str(client.make_url("")).rstrip("/"), None)
    assert failed(reports) == ["Main hall", "Quang Ngai City People's Committee"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conference", "1", "--sites", "0"], "give between 1 and 500 sites"),
        (["--conference", "x", "--sites", "2"], "invalid int value: 'x'"),
        (["--sites", "2"], "the following arguments are required: --conference"),
        (["--conference", "1", "--sites", "2", "--duration", "0"], "--duration must be positive"),
        (
            ["--conference", "1", "--sites", "5", "--duration", "1"],
            "has 2 sites to simulate, not 5",
        ),
    ],
)
def test_cli_arguments_are_checked(tmp_path: Path, args: list[str], message: str) -> None:
    env = {
        **os.environ,
        "CONCORD_DATA_DIR": str(tmp_path),
        "CONCORD_ARGON2_TIME_COST": "1",
        "CONCORD_ARGON2_MEMORY_KIB": "1024",
    }
    subprocess.run(
        [sys.executable, "-m", "server", "demo"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    done = subprocess.run(
        [sys.executable, "-m", "server", "simulate-sites", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (1, 2)
    assert message in done.stderr
