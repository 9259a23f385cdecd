"""A withdrawn invitation, seen from the site's browser (issue 13): the page that was in the
room with a connected peer connection stops, says why in its language, and its peer connection
is closed by the server; reloading does not bring it back.

Conference 2 of the demo: the organiser invites site 21 and admits it from the console, then
withdraws the link from its own page with ``fetch``.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.test_room import (
    CONFERENCE,
    JOIN_TIMEOUT,
    describe,
    invite,
    sign_in,
    wait_for,
    wait_in_room,
)

SITE = 21  # not used by the other browser tests (they share one server)


def test_a_withdrawn_invitation_ends_the_site_page_with_the_reason(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    organiser = new_context("organiser")
    office = organiser.new_page()
    office.goto("/healthz")
    csrf = sign_in(office)
    link = invite(office, csrf, SITE)
    invitation_id = office.evaluate(
        """async ([conference]) => {
          const r = await fetch(`/api/conferences/${conference}/invitations`);
          const rows = await r.json();
          return rows[rows.length - 1].id;
        }""",
        [CONFERENCE],
    )
    console = organiser.new_page()
    console.goto(f"/conferences/{CONFERENCE}/console")
    wait_for(
        console,
        "the console",
        "() => window.concord && window.concord.canChair === true && window.concord.state",
    )

    site = new_context("site").new_page()
    site.goto(link)
    site.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    wait_for(
        site,
        "the site in the lobby",
        "() => window.concord && window.concord.admission === 'lobby'",
        timeout=JOIN_TIMEOUT,
    )
    name = console.evaluate(
        "(site) => window.concord.state.sites.find((s) => s.site_id === site).name", SITE
    )
    waiting = console.locator("#lobby-list li").filter(has_text=name)
    expect(waiting).to_have_count(1, timeout=JOIN_TIMEOUT * 1000)
    waiting.locator("[data-action=admit]").click()
    wait_in_room(site, "the invited site")

    answer = office.evaluate(
        """async ([conference, invitation, csrf]) => {
          const r = await fetch(`/api/conferences/${conference}/invitations/${invitation}`,
            {method: "DELETE", headers: {"X-CSRF-Token": csrf}});
          return r.status;
        }""",
        [CONFERENCE, invitation_id, csrf],
    )
    assert answer == 200
    wait_for(
        site,
        "the site page ended by the withdrawal",
        """() => window.concord && document.getElementById("room-site").dataset.reason === "revoked"
              && (!window.concord.pc || window.concord.pc.connectionState !== "connected")""",
        timeout=4,
    )
    message = site.locator("#ended-message")
    expect(message).to_contain_text("withdrew this invitation link")
    expect(site.locator("#join-again")).to_be_hidden()
    screenshot(site, "revoked-site")
    assert "room" != site.evaluate("() => window.concord.view"), describe(site)

    # Reloading with the same cookie does not bring the site back.
    response = site.goto(f"/conferences/{CONFERENCE}/room")
    assert response is not None
    assert "/login" in site.url or response.status in (401, 403), (site.url, response.status)
