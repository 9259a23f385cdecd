"""A site's pre-conference check in a real browser (docs/signalling.md, "Site checks").

Conference 2 of the demo (the aid review): the organiser invites site 20; the guest opens the
invitation link, follows "Check this site's connection" from its site page and runs the whole
check with Chromium's fake camera and microphone: the camera and microphone steps pass, the
guest answers "I heard it" for the speaker, and the 20-second loopback call through Concord
shows the echoed picture and live figures. The stored result must be passed, with the page's
network figures and Concord's; the organiser's readiness board then shows the site as passed,
and in the chair's lobby site 20 carries no warning while site 21 (never checked) is flagged.

Screenshots: test-output/browser/site-check.png (the finished check) and
site-readiness.png (the organiser's board).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.probes import invite, sign_in

CONFERENCE = 2  # the aid review: main hall 3, sites 4..27
SITE = 20  # Department of Labour…: not used by the other browser tests
UNCHECKED = 21  # Department of Agriculture and Rural Development: joins unchecked
ORGANISER = ("organiser@concord.example", "concord-organiser")
RUN_TIMEOUT_MS = 90_000  # connecting, 20 s of test, saving, on a busy 2-core machine

ENGLISH_JS = """
async (csrf) => {
  const r = await fetch("/api/me", {method: "PATCH", body: JSON.stringify({locale: "en"}),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
  return r.status;
}
"""

DESCRIBE_JS = """
() => ({
  phase: window.concord && window.concord.phase,
  devices: window.concord && window.concord.devices,
  error: document.getElementById("check-error").textContent,
  steps: [...document.querySelectorAll(".check-step")].map((s) =>
    `${s.id}:${s.dataset.result}:${s.querySelector(".step-status").textContent}`),
})
"""


def describe(page: Page) -> Any:
    return page.evaluate(DESCRIBE_JS)


def test_a_guest_checks_its_site_and_the_board_shows_it(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    organiser = new_context("organiser").new_page()
    csrf = sign_in(organiser, ORGANISER)
    assert organiser.evaluate(ENGLISH_JS, csrf) == 200  # the demo organiser reads Vietnamese
    url = invite(organiser, CONFERENCE, SITE, csrf)

    guest = new_context("guest").new_page()
    guest.goto(url[url.index("/join/") :])
    guest.wait_for_url(f"**/conferences/{CONFERENCE}/room")
    guest.locator("#site-check-link").click()
    guest.wait_for_url(f"**/conferences/{CONFERENCE}/check")
    expect(guest.locator("#previous-check")).not_to_be_empty()  # "not checked yet"

    guest.locator("#start-check").click()
    expect(guest.locator("#check-steps")).to_be_visible()
    camera, microphone = guest.locator("#step-camera"), guest.locator("#step-microphone")
    expect(camera).to_have_attribute("data-result", "ok", timeout=15_000)
    expect(microphone).to_have_attribute("data-result", "ok", timeout=15_000)
    guest.locator("#speaker-yes").click()
    expect(guest.locator("#step-speaker")).to_have_attribute("data-result", "ok")

    # The full round trip: our own picture comes back through Concord, with live figures.
    guest.wait_for_function(
        "() => document.getElementById('echo-video').videoWidth > 0", timeout=30_000
    )
    expect(guest.locator("#figure-rtt")).not_to_have_text("—", timeout=10_000)
    expect(guest.locator("#figure-up")).not_to_have_text("—")
    screenshot(guest, "site-check-running")

    try:
        guest.wait_for_function("() => window.concord.phase === 'done'", timeout=RUN_TIMEOUT_MS)
    except Exception as exc:
        raise AssertionError(f"the check did not finish: {describe(guest)}") from exc
    check = guest.evaluate("window.concord.result")
    assert check["passed"] is True and check["failed"] == [], repr(check)
    assert check["results"]["devices"] == {"camera": "ok", "microphone": "ok", "speaker": "ok"}
    page_figures = check["results"]["browser"]
    assert 0 <= page_figures["rtt"] < 1, page_figures
    assert page_figures["bitrate_up"] > 50_000, page_figures
    assert page_figures["bitrate_down"] > 0, page_figures
    assert page_figures["candidate_type"] == "host", page_figures
    assert "loss" in page_figures
    network = check["results"]["network"]
    assert network["samples"] >= 2 and network["failed"] == [], network
    assert check["rtt"] is not None and check["bitrate"] > 250_000, check
    expect(guest.locator("#check-done")).to_be_visible()
    expect(guest.locator("#check-result")).to_have_attribute("data-result", "passed")
    expect(guest.locator("#step-network")).to_have_attribute("data-result", "ok")
    screenshot(guest, "site-check")

    organiser.goto(f"/conferences/{CONFERENCE}/readiness")
    row = organiser.locator(f'tr[data-site-id="{SITE}"]')
    expect(row).to_have_attribute("data-result", "passed")
    expect(row.locator(".result")).to_have_text("passed")
    others = organiser.locator('tr[data-result="never"]')
    assert others.count() >= 1  # the other sites were never checked in this run
    screenshot(organiser, "site-readiness")

    # In the chair's lobby, a site never checked is flagged; the checked one is not.
    other = new_context("unchecked").new_page()
    other_url = invite(organiser, CONFERENCE, UNCHECKED, csrf)
    other.goto(other_url[other_url.index("/join/") :])
    for page in (guest, other):
        page.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    organiser.goto(f"/conferences/{CONFERENCE}/console")
    names = {SITE: "Department of Labour", UNCHECKED: "Department of Agriculture"}
    items = {
        site: organiser.locator("#lobby-list li").filter(has_text=name)
        for site, name in names.items()
    }
    for item in items.values():
        expect(item).to_have_count(1, timeout=30_000)
    expect(items[UNCHECKED].locator(".lobby-warning")).to_have_text("not checked")
    expect(items[SITE].locator(".lobby-warning")).to_be_hidden()
