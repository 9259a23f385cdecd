"""A site that changes the interface language mid-meeting comes straight back to where it was,
not to the device check (issue 17)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import NewContext
from tests.browser.test_room import CONFERENCE, JOIN_TIMEOUT, invite, sign_in, wait_for

SITE = 4  # a site of the aid review (conference 2)


def test_changing_the_language_in_the_lobby_keeps_the_site_joined(
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
        "the site in the lobby",
        "() => window.concord && window.concord.admission === 'lobby'",
        timeout=JOIN_TIMEOUT,
    )
    # The Join button went with the device check: the focus moved to the lobby, not nowhere.
    expect(site.locator("#lobby-title")).to_be_focused()
    with site.expect_navigation():
        site.locator("#locale-select").select_option("lo")
    expect(site.locator("html")).to_have_attribute("lang", "lo")
    wait_for(
        site,
        "the site back in the lobby, in Lao, without pressing Join",
        "() => window.concord && window.concord.admission === 'lobby'",
        timeout=JOIN_TIMEOUT,
    )
