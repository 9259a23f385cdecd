"""What a site's people experience, on the technicians' dashboard, with real Chromium sites.

1. A site page without camera or microphone (getUserMedia refused: the page lets it join to
   watch and listen) receives the main hall: its dashboard row says "listening", good, with a
   high score and its page's own figures (concealed audio measured), and stays so past the
   time a silent site would count as down.
2. A Chromium site (a microphone, no camera) in a namespace of its own, joined to the
   server's by an impaired link (the lab of tests/browser/linked.py), hears the main hall (a
   synthetic aiortc site) through 20% loss: its page
   reports the audio it had to conceal, its score falls and its row and poor alert say why; the
   technician reads Vietnamese and sees that alert in Vietnamese, with no English in it.

Screenshots: test-output/browser/health-listening.png, health-concealed-vi.png.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser import linked
from tests.browser.conftest import Namespace, NewContext, Screenshot, Server
from tests.browser.probes import invite, sign_in
from tests.browser.test_health_dashboard import (
    ENGLISH_JS,
    ORGANISER,
    Sites,
    describe,
    running_sites,  # noqa: F401 (a fixture)
    start_sites,
    wait_for,
)

CONFERENCE, MAIN_HALL = 2, 3  # the aid review
LISTENER, FAR = 9, 10  # sites not used by the other browser tests
TIMEOUT = 30_000  # ms

# getUserMedia refused, as when a site has no camera or microphone or says no.
NO_DEVICES_JS = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("no camera or microphone here", "NotAllowedError"));
"""

# A delegation with a microphone and no camera.
MICROPHONE_ONLY_JS = """
{
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) =>
    original({ ...constraints, video: false });
}
"""

LOCALE_JS = """
async ([csrf, locale]) => {
  const r = await fetch("/api/me", {method: "PATCH", body: JSON.stringify({locale}),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
  return r.status;
}
"""

ROW_JS = "(subject) => window.__health.model.rows.get(subject) || null"


def row(page: Page, subject: str) -> dict[str, Any]:
    found: dict[str, Any] | None = page.evaluate(ROW_JS, subject)
    return found or {}


def admit_when_waiting(page: Page, site: int) -> None:
    """Admit ``site`` from the dashboard's own client once it waits in the lobby (a site
    already admitted, by an earlier test on this server, comes straight in)."""
    wait_for(
        page,
        f"site {site} in the lobby or admitted",
        """(id) => (window.__health.room.sites || []).some((s) => s.site_id === id
              && (s.admission === "lobby" || s.admission === "admitted"))""",
        site,
    )
    waiting = page.evaluate(
        "(id) => window.__health.room.sites.find((s) => s.site_id === id).admission", site
    )
    if waiting == "lobby":
        page.evaluate("(id) => window.__health.client.admit(id)", site)


def join_path(link: str) -> str:
    return link[link.index("/join/") :]


def open_site(page: Page, link: str) -> None:
    page.goto(link)
    page.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")


def in_room(page: Page, who: str) -> None:
    try:
        page.wait_for_function(
            """() => window.concord && window.concord.view === "room" && window.concord.pc
                  && window.concord.pc.connectionState === "connected" """,
            timeout=TIMEOUT,
            polling=250,
        )
    except PlaywrightError as err:
        raise AssertionError(f"{who} is not in the room with media: {err.message}") from None


def test_a_site_without_camera_or_microphone_is_listening_and_healthy(
    new_context: NewContext,
    netns: Namespace,
    concord_server: Server,
    screenshot: Screenshot,
    output_dir: Path,
    running_sites: list[Sites],  # noqa: F811
) -> None:
    organiser = new_context("organiser")
    dashboard = organiser.new_page()
    csrf = sign_in(dashboard, ORGANISER)
    assert dashboard.evaluate(ENGLISH_JS, csrf) == 200
    links = {s: invite(dashboard, CONFERENCE, s, csrf) for s in (MAIN_HALL, LISTENER)}
    dashboard.goto(f"/conferences/{CONFERENCE}/health")
    wait_for(dashboard, "the dashboard watches", "() => window.__health.watching")

    # The main hall: a synthetic site (test pattern, a steady tone), lighter than a browser.
    hall = start_sites(
        netns, concord_server, [join_path(links[MAIN_HALL])], output_dir / "hall.log"
    )
    running_sites.append(hall)
    admit_when_waiting(dashboard, MAIN_HALL)
    link = links[LISTENER]

    listener = new_context(f"site-{LISTENER}")
    listener.add_init_script(NO_DEVICES_JS)
    site = listener.new_page()
    open_site(site, link)
    expect(site.locator("#device-status")).to_contain_text("You can still join to watch")
    admit_when_waiting(dashboard, LISTENER)
    in_room(site, "the listening site")

    subject = f"site:{LISTENER}"
    tr = dashboard.locator(f"#health-rows tr[data-subject='{subject}']")
    expect(tr).to_have_attribute("data-level", "good", timeout=TIMEOUT)
    expect(tr.locator(".level")).to_have_text("listening")
    # Its page's own report has reached the row: the share of the hall's audio it concealed.
    wait_for(
        dashboard,
        "the listener's page reports what it hears",
        "(s) => { const r = window.__health.model.rows.get(s);"
        " return r && r.experience && typeof r.experience.concealed === 'number'; }",
        subject,
    )
    # It is never down for sending nothing, and is always "listening"; good for 10 s on end
    # (past the 5 s after which a site sending nothing would be down) within 90 s: on a
    # busy machine what it hears may suffer for a while (a starved server's jitter, audio
    # concealed), and its row says so, as for any site.
    started = time.monotonic()
    good_since: float | None = None
    seen = []
    while True:
        now = row(dashboard, subject)
        seen.append((now.get("level"), now.get("score")))
        assert now.get("level") != "down" and "listening" in now.get("flags", []), json.dumps(now)
        good = now.get("level") == "good" and now.get("score", 0) >= 75
        good_since = (good_since or time.monotonic()) if good else None
        if good_since is not None and time.monotonic() - good_since >= 10:
            break
        assert time.monotonic() - started < 90, f"not good for 10 s: {seen} {json.dumps(now)}"
        dashboard.wait_for_timeout(1000)
    assert now["downlink"]["packets"] > 0, f"it receives the main hall: {now}"
    assert now["uplink"]["packets"] == 0, f"it sends nothing: {now}"
    assert now["experience"]["concealed"] < 0.03, now
    assert now["experience"]["reconnections"] == 0, now
    expect(tr.locator(".level")).to_have_text("listening")
    expect(tr.locator(".flags")).to_contain_text("receives only (no camera or microphone)")
    alerts = dashboard.evaluate("() => [...window.__health.model.alerts.values()]")
    assert not [a for a in alerts if a["subject"] == subject and not a.get("cleared_at")]
    print(
        f"\nlistening site: score {now['score']}, concealed {now['experience']['concealed']:.2%},"
        f" downlink {now['downlink']['packets']} packets/window, levels seen {set(seen)},"
        f" flags {now['flags']}, experience {now['experience']}"
    )
    screenshot(dashboard, "health-listening")


# --- an impaired site, a Vietnamese technician -------------------------------------------------

ENGLISH = re.compile(
    r"\b(poor|connection|loss|audio|concealed|round trip|uplink|downlink|trouble|site|"
    r"freezes?|reconnect\w*|video|nothing)\b",
    re.IGNORECASE,
)
# The lab (tests/browser/linked.py): the server and the technician in namespace hub, the far
# site's Chromium in namespace site, across the impaired link.
linked_lab = linked.linked_lab
linked_context = linked.linked_context


def test_concealed_audio_lowers_a_sites_score_and_the_alert_is_in_vietnamese(
    linked_lab: linked.LinkedLab,
    linked_context: linked.LinkedContext,
    output_dir: Path,
    screenshot: Screenshot,
    running_sites: list[Sites],  # noqa: F811
) -> None:
    lab, link = linked_lab, linked_lab.link
    dashboard = linked_context("hub", "technician").new_page()
    csrf = sign_in(dashboard, ORGANISER)
    assert dashboard.evaluate(LOCALE_JS, [csrf, "vi"]) == 200
    links = {s: invite(dashboard, CONFERENCE, s, csrf) for s in (MAIN_HALL, FAR)}
    dashboard.goto(f"/conferences/{CONFERENCE}/health")
    assert dashboard.evaluate("document.documentElement.lang") == "vi"
    wait_for(dashboard, "the dashboard watches", "() => window.__health.watching")

    # The main hall: a synthetic site (test pattern, a steady tone) on the server's side.
    hub = Namespace(lab.hub.name)
    hall = start_sites(hub, lab.server, [join_path(links[MAIN_HALL])], output_dir / "hall.log")
    running_sites.append(hall)
    admit_when_waiting(dashboard, MAIN_HALL)

    delegation = linked_context("site", f"site-{FAR}")
    delegation.add_init_script(MICROPHONE_ONLY_JS)  # (no camera: less for the CPU to do)
    site = delegation.new_page()
    open_site(site, join_path(links[FAR]))
    admit_when_waiting(dashboard, FAR)
    in_room(site, "the far site")

    subject = f"site:{FAR}"
    wait_for(
        dashboard,
        "the far site hears the hall",
        "(s) => { const r = window.__health.model.rows.get(s); return r && r.experience"
        " && typeof r.experience.concealed === 'number' && r.level !== 'down'; }",
        subject,
    )
    before = row(dashboard, subject)
    assert before["experience"]["concealed"] < 0.03, before  # (3%: still good)

    link.impair(loss=0.20, direction="a_to_b")  # what Concord sends the far site
    impaired_at = time.monotonic()
    alert = dashboard.locator("#alert-list li[data-kind='poor']").filter(
        has_text=re.compile("âm thanh bị gián đoạn")
    )
    try:
        expect(alert).to_have_count(1, timeout=60_000)
    except AssertionError as err:
        raise AssertionError(f"{err}\n  page: {describe(dashboard)}") from None
    took = time.monotonic() - impaired_at
    # The share over the window (30 s, clean until now) keeps rising as it fills.
    wait_for(
        dashboard,
        "the far site's concealed audio up by 4 points over the window (and at least 5%)",
        "([s, was]) => { const c = window.__health.model.rows.get(s).experience.concealed;"
        " return c >= 0.05 && c >= was + 0.04; }",
        [subject, before["experience"]["concealed"]],
    )
    after = row(dashboard, subject)
    assert after["level"] == "poor" and "concealed_audio" in after["flags"], after
    assert after["where"] == "downlink", after
    assert after["score"] <= max(0, before["score"] - 25), (before, after)

    # The technician's alert, in Vietnamese from start to end.
    text = alert.locator(".what").inner_text()
    assert text.startswith("Kết nối kém: Sự cố trên đường xuống của điểm cầu"), text
    assert "âm thanh bị gián đoạn" in text and "mất gói chiều xuống" in text, text
    assert not ENGLISH.search(text), f"English in the Vietnamese alert: {text!r}"
    tr = dashboard.locator(f"#health-rows tr[data-subject='{subject}']")
    expect(tr.locator(".level")).to_have_text("kém")
    flags = tr.locator(".flags").inner_text()
    assert "âm thanh bị gián đoạn" in flags and not ENGLISH.search(flags), flags
    print(
        f"\nfar site behind 20% downlink loss: poor alert {took:.1f} s after the impairment;"
        f" concealed {before['experience']['concealed']:.1%} → "
        f"{after['experience']['concealed']:.1%}, score {before['score']} → "
        f"{after['score']}; alert: {text}"
    )
    screenshot(dashboard, "health-concealed-vi")

    # The link heals and the page opens a new peer connection (as when the server asks
    # it to rejoin): the page and Concord each count one reconnection, shown once.
    link.clear()
    site.evaluate("() => window.concord.link.restart('rejoin')")
    in_room(site, "the far site, reconnected")
    assert site.evaluate("() => window.concord.link.reconnections") == 1
    wait_for(
        dashboard,
        "the far site's reconnection on its row",
        "(s) => window.__health.model.rows.get(s).experience.reconnections === 1",
        subject,
    )
    expect(tr.locator(".flags")).to_contain_text("kết nối lại 1 lần", timeout=TIMEOUT)
