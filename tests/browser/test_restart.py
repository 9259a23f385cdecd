"""A site page survives a server restart without reloading (issue 14, "Browser test").

The test serves a demo of its own (port 8081, a fresh data dir) in the harness's namespace, so
that it can stop it without touching the package's shared ``concord_server``. The organiser
joins conference 2's room as the main hall (site 3) and admits site 4, whose invited page then
receives the main hall's video. The server is stopped with SIGTERM, started again on the same
data, then killed with SIGKILL and started again. After each restart, with nobody clicking
anything, the site page must be the same document (a marker set in it is still there), admitted
again (not in the lobby) with a connected peer connection, and decoding the main hall's video
again within BACK_WITHIN seconds of the new process answering /healthz; the main hall's page
comes back too. The seconds are printed.
"""

from __future__ import annotations

import secrets
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Namespace, NewContext, _stop, make_demo, serve
from tests.browser.probes import invite, sign_in
from tests.browser.test_room import describe, inbound, slot, wait_in_room

CONFERENCE, MAIN_HALL, SITE = 2, 3, 4
ORGANISER = ("organiser@concord.example", "concord-organiser")
PORT = 8081  # not the shared server's
BACK_WITHIN = 10.0  # seconds from /healthz answering to the site decoding the hall again
MIN_FRAMES = 5  # frames decoded after the restart: a moving picture, not a stray keyframe


@dataclass
class Restartable:
    """``concord serve`` on its own data dir and port, stopped and started by the test."""

    netns: Namespace
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    url: str = f"http://127.0.0.1:{PORT}"

    def start(self) -> float:
        """Serve; the monotonic time at which /healthz answered."""
        self.process = serve(self.netns, self.data_dir, PORT, self.log)
        return time.monotonic()

    def end(self, how: signal.Signals) -> None:
        """Send ``how`` and wait for the process to exit."""
        assert self.process is not None
        self.process.send_signal(how)
        code = self.process.wait(timeout=15)
        if how == signal.SIGTERM:
            assert code == 0, f"the server's graceful stop exited {code}"


@pytest.fixture
def restartable(netns: Namespace, tmp_path: Path, output_dir: Path) -> Iterator[Restartable]:
    log = output_dir / "restart-server.log"
    make_demo(netns, tmp_path, PORT, log)
    with sqlite3.connect(tmp_path / "concord.db") as db:
        db.execute("UPDATE conferences SET status = 'live' WHERE id = ?", (CONFERENCE,))
    server = Restartable(netns, tmp_path, log)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            _stop(server.process)


# The page's marker, admission and peer connection (tagged, to tell a new one from the last).
PEER_JS = """
() => {
  const pc = window.concord.pc;
  if (pc && !pc.__tag) pc.__tag = Math.random().toString(36).slice(2);
  return {marker: window.__marker, admission: window.concord.admission,
    pc: pc && pc.connectionState, tag: pc && pc.__tag};
}
"""


def hall_frames(page: Page) -> int:
    return int(inbound(slot(page, "hall.video")).get("framesDecoded", 0))


def back_with_video(site: Page, answered: float, marker: str) -> float:
    """Seconds from ``answered`` until the site, still the same document, is admitted with a
    connected peer connection and decodes the hall's video at a moving rate."""
    deadline = answered + BACK_WITHIN
    first: tuple[str, int] | None = None  # a peer connection (its tag) and its frame count
    while True:
        state = site.evaluate(PEER_JS)
        assert state["marker"] == marker, "the site page was reloaded"
        if state["admission"] == "admitted" and state["pc"] == "connected":
            frames = hall_frames(site)
            if first is None or first[0] != state["tag"]:
                first = (state["tag"], frames)  # counted anew on each new peer connection
            elif frames >= first[1] + MIN_FRAMES:
                return time.monotonic() - answered
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the site did not decode the main hall again within {BACK_WITHIN:.0f} s of "
                f"/healthz: {state}, frames {first}\n  page: {describe(site)}"
            )
        site.wait_for_timeout(100)


def test_a_site_page_survives_restarts_and_shows_the_main_hall_again(
    restartable: Restartable, new_context: NewContext
) -> None:
    hall = new_context("hall", restartable.url).new_page()
    csrf = sign_in(hall, ORGANISER)
    link = invite(hall, CONFERENCE, SITE, csrf)
    hall.goto(f"/conferences/{CONFERENCE}/room?site={MAIN_HALL}&autojoin=1")
    wait_in_room(hall, "main hall")

    site = new_context(f"site-{SITE}", restartable.url).new_page()
    site.goto(link)
    site.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    site.wait_for_function("() => window.concord && window.concord.admission === 'lobby'")
    hall.evaluate("(id) => window.concord.client.admit(id)", SITE)
    wait_in_room(site, f"site {SITE}")
    marker = secrets.token_hex(8)
    for page in (site, hall):
        page.evaluate("(marker) => { window.__marker = marker; }", marker)
    back_with_video(site, time.monotonic(), marker)

    took = {}
    for how in (signal.SIGTERM, signal.SIGKILL):
        restartable.end(how)
        answered = restartable.start()
        took[how.name] = back_with_video(site, answered, marker)
        wait_in_room(hall, f"main hall after {how.name}")
        assert hall.evaluate("window.__marker") == marker, "the main hall's page was reloaded"
    print(
        "\nthe site decoded the main hall again "
        + ", ".join(f"{seconds:.1f} s after {how}" for how, seconds in took.items())
        + " (from /healthz answering)"
    )
