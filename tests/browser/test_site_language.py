"""A site that changes the interface language mid-meeting comes straight back to where it was,
not to the device check (issue 17)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import NewContext
from tests.browser.test_room import CONFERENCE, JOIN_TIMEOUT, invite, sign_in, wait_for

SITE = 22  # a site of the aid review (conference 2) no other browser test joins
JOINED = "() => window.concord && ['lobby', 'admitted'].includes(window.concord.admission)"


def test_changing_the_language_after_joining_keeps_the_site_joined(
    new_context: NewContext,
) -> None:
    office = new_context("organiser").new_page()
    office.goto("/healthz")
    link = invite(office, sign_in(office), SITE)
    site = new_context("site").new_page()
    site.goto(link)
    site.goto(f"/conferences/{CONFERENCE}/room")
    site.get_by_role("button", name="Join").click()
    wait_for(
        site,
        "the site in the lobby (or the room: other tests may have admitted it before)",
        JOINED,
        timeout=JOIN_TIMEOUT,
    )
    # The Join button went with the device check: the focus moved on, not nowhere.
    admitted = site.evaluate("() => window.concord.admission") == "admitted"
    expect(site.locator("#floor-button" if admitted else "#lobby-title")).to_be_focused()
    with site.expect_navigation():
        site.locator("#locale-select").select_option("lo")
    expect(site.locator("html")).to_have_attribute("lang", "lo")
    wait_for(site, "the site back, in Lao, without pressing Join", JOINED, timeout=JOIN_TIMEOUT)
