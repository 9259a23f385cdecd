"""The connection-health dashboard in a real browser, fed by real aiortc sites.

Conference 2 of the demo (the aid review): the organiser (in English) invites sites 6, 7 and 8;
three synthetic sites (``server.live.simulate.SimulatedSite``: test pattern and tone over
aiortc) open those links from a helper process inside the test namespace, and the organiser
admits them from the dashboard's own protocol client. The dashboard, joined as a console with
no media, must show a "good" row per site with a drawn uPlot sparkline of at least 3 points;
then one site closes its media: its row goes "down", an alert with an Acknowledge button
appears, and acknowledging it marks it.

Screenshots: test-output/browser/health-dashboard.png (three good sites) and
health-dashboard-alert.png (one down, its alert acknowledged, its detail panel open).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import REPO, Namespace, NewContext, Screenshot, Server
from tests.browser.probes import invite, sign_in

CONFERENCE = 2  # the aid review: main hall 3, sites 4..27
SITES = (6, 7, 8)  # not used by the other browser tests
LOST = 7
ORGANISER = ("organiser@concord.example", "concord-organiser")
TIMEOUT = 30.0  # seconds: sites joining, media up, three 2-s reports (a busy 2-core machine)

ENGLISH_JS = """
async (csrf) => {
  const r = await fetch("/api/me", {method: "PATCH", body: JSON.stringify({locale: "en"}),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
  return r.status;
}
"""

# The dashboard's state, attached to every failure message.
DESCRIBE_JS = """
() => {
  const h = window.__health;
  if (!h) return {error: "no window.__health"};
  return {
    watching: h.watching,
    connection: (document.getElementById("connection") || {dataset: {}}).dataset.state,
    error: (document.getElementById("health-error") || {}).textContent,
    sites: h.room ? h.room.sites.filter((s) => s.admission !== "absent")
      .map((s) => `${s.site_id}:${s.admission}/${s.link}`) : null,
    rows: [...h.model.rows.values()].map((r) => `${r.subject}:${r.level}/${r.score}` +
      `/${r.connection}/pts=${h.sparkPoints(r.subject)}/${(r.flags || []).join("+")}`),
    alerts: [...h.model.alerts.values()].map((a) => `${a.id}:${a.subject}:${a.kind}` +
      `${a.acknowledged_by ? "/ack" : ""}`),
  };
}
"""

# Sites in the helper process: one JSON line per event on stdout; "close <site id>" on stdin
# closes that site's media (its socket stays: it is still admitted, its link is lost).
SIMULATOR = r"""
import asyncio, json, sys
from server.live.simulate import SimulatedSite

def say(**event):
    print(json.dumps(event), flush=True)

async def main(base, paths):
    sites = [SimulatedSite(base, path, name=f"site {i}", tone_hz=440.0 + 110.0 * i,
                           video=(160, 90, 10)) for i, path in enumerate(paths)]
    async def media(site):
        await site.admitted.wait()
        await site.connect_media()
        say(event="media", site_id=site.site_id)
    tasks = []
    try:
        for site in sites:
            say(event="joined", site_id=site.site_id, admission=await site.start())
            tasks.append(asyncio.create_task(media(site)))
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command, _, arg = line.strip().partition(" ")
            if command == "close":
                site = next(s for s in sites if str(s.site_id) == arg)
                media, site.media = site.media, None  # first: or the site would renew it
                if media is not None:
                    await media.close()
                say(event="closed", site_id=site.site_id)
    finally:
        for task in tasks:
            task.cancel()
        for site in sites:
            await site.close()

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"""


class Sites:
    """The helper process running the synthetic sites."""

    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process, self.log = process, log

    def close_media(self, site_id: int) -> None:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None and self.process.poll() is None, self.tail()
        stdin.write(f"close {site_id}\n")
        stdin.flush()

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


@pytest.fixture
def sites_log(output_dir: Path) -> Path:
    return output_dir / "health-sites.log"


def start_sites(netns: Namespace, server: Server, paths: list[str], log: Path) -> Sites:
    out = log.open("w")
    process = subprocess.Popen(
        netns.command(sys.executable, "-c", SIMULATOR, server.url, *paths),
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out.close()
    return Sites(process, log)


@pytest.fixture
def running_sites() -> Iterator[list[Sites]]:
    """Stops the helper process after the test: end of input, then a kill if it lingers."""
    started: list[Sites] = []
    yield started
    for sites in started:
        process = sites.process
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=15)
        except (subprocess.TimeoutExpired, OSError):
            process.kill()
            process.wait(timeout=10)


def describe(page: Page) -> str:
    try:
        return json.dumps(page.evaluate(DESCRIBE_JS), ensure_ascii=False)
    except PlaywrightError as err:
        return f"(could not describe the page: {err})"


def wait_for(page: Page, what: str, expression: str, arg: object = None) -> None:
    try:
        page.wait_for_function(expression, arg=arg, timeout=TIMEOUT * 1000, polling=250)
    except PlaywrightError as err:
        raise AssertionError(
            f"{what}: not within {TIMEOUT:.0f} s ({err.message.splitlines()[0]})\n"
            f"  page: {describe(page)}"
        ) from None


def test_dashboard_follows_sites_and_their_alerts(
    new_context: NewContext,
    netns: Namespace,
    concord_server: Server,
    screenshot: Screenshot,
    sites_log: Path,
    running_sites: list[Sites],
) -> None:
    ms = TIMEOUT * 1000
    page = new_context("organiser").new_page()
    csrf = sign_in(page, ORGANISER)
    assert page.evaluate(ENGLISH_JS, csrf) == 200  # the demo organiser reads Vietnamese
    paths = []
    for site in SITES:
        url = invite(page, CONFERENCE, site, csrf)
        paths.append(url[url.index("/join/") :])

    page.goto(f"/conferences/{CONFERENCE}/health")
    expect(page.locator("h1")).to_have_text("Connection health")
    wait_for(page, "the dashboard watches the room's health", "() => window.__health.watching")

    sites = start_sites(netns, concord_server, paths, sites_log)
    running_sites.append(sites)
    wait_for(
        page,
        f"sites {SITES} wait in the lobby ({sites.tail()})",
        """(ids) => ids.every((id) => (window.__health.room.sites || [])
              .some((s) => s.site_id === id && s.admission === "lobby"))""",
        list(SITES),
    )
    for site in SITES:
        page.evaluate("(id) => window.__health.client.admit(id)", site)

    # Three good rows, each with a uPlot sparkline drawn from at least 3 points.
    for site in SITES:
        row = page.locator(f"#health-rows tr[data-subject='site:{site}']")
        try:
            expect(row).to_have_attribute("data-level", "good", timeout=ms)
            expect(row.locator("td.spark canvas")).to_have_count(1)
        except AssertionError as err:
            raise AssertionError(f"site {site}: {err}\n  page: {describe(page)}") from None
        expect(row.locator(".level")).to_have_text("good")
    wait_for(
        page,
        "three sparkline points per site",
        "(ids) => ids.every((id) => window.__health.sparkPoints(`site:${id}`) >= 3)",
        list(SITES),
    )
    for site in SITES:
        points = page.locator(f"#health-rows tr[data-subject='site:{site}']")
        assert int(points.get_attribute("data-points") or 0) >= 3
    expect(page.locator("#health-rows tr[data-level='good']")).to_have_count(len(SITES))
    expect(page.locator("#alerts-empty")).to_be_visible()

    # The detail panel of a site: five full-size uPlot charts with the same history.
    page.locator(f"#health-rows tr[data-subject='site:{LOST}'] .subject-button").click()
    expect(page.locator("#health-detail")).to_be_visible()
    expect(page.locator("#detail-charts .uplot canvas")).to_have_count(5)
    assert all(n >= 3 for n in page.evaluate("() => window.__health.detailPoints()"))
    screenshot(page, "health-dashboard")

    # The site loses its media: down, with an alert to acknowledge.
    sites.close_media(LOST)
    lost = page.locator(f"#health-rows tr[data-subject='site:{LOST}']")
    try:
        expect(lost).to_have_attribute("data-level", "down", timeout=ms)
    except AssertionError as err:
        raise AssertionError(f"{err}\n  page: {describe(page)}\n  sites: {sites.tail()}") from None
    expect(lost.locator(".level")).to_have_text("down")
    expect(page.locator("#health-rows tr").first).to_have_attribute("data-subject", f"site:{LOST}")
    alert = page.locator("#alert-list li[data-kind='down']")
    expect(alert).to_have_count(1, timeout=ms)
    expect(alert).to_have_attribute("data-acknowledged", "false")
    assert page.evaluate("() => window.__health.beeps") >= 1
    button = alert.get_by_role("button", name="Acknowledge")
    expect(button).to_be_visible()
    button.click()
    expect(alert).to_have_attribute("data-acknowledged", "true", timeout=ms)
    expect(alert.locator(".acknowledged")).to_contain_text("Acknowledged by")
    expect(button).to_be_hidden()
    expect(page.locator("#alert-count")).to_have_text("0")
    # The site's timeline in its detail panel: the level change, the alert, the acknowledgement.
    timeline = page.locator("#detail-timeline")
    expect(timeline.locator("li[data-type='level']").first).to_contain_text("down", timeout=ms)
    expect(timeline.locator("li[data-type='alert']")).to_have_count(1)
    expect(timeline.locator("li[data-type='acknowledged']")).to_have_count(1)
    # Times on a 24-hour clock, as the server's pages write them, in English too (not 9:41 PM).
    for shown in timeline.locator("time").all_text_contents():
        assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", shown), shown
    for site in SITES:
        if site != LOST:
            other = page.locator(f"#health-rows tr[data-subject='site:{site}']")
            expect(other).to_have_attribute("data-level", "good")
    screenshot(page, "health-dashboard-alert")
