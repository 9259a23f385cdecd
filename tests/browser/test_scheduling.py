"""Scheduling in a real browser: the organiser creates a conference in the editor, adds a site
and a session in Viet Nam and in France, sends the calendar invitations, and reads both local
times of each session on the timetable."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.test_home import ORGANISER_EMAIL, ORGANISER_PASSWORD, sign_in

TITLE = "Quang Ngai - Lyon donor coordination"
# Requests from inside the page: the pytest process is outside the server's network namespace.
FETCH_JS = """
async (path) => {
  const r = await fetch(path);
  return {status: r.status, type: r.headers.get("content-type") || "", text: await r.text()};
}
"""
# The demo server is shared by every browser test: a conference made here is deleted (it is a
# draft) so that the others still see only the demo conferences.
DELETE_JS = """
async (id) => {
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const r = await fetch(`/api/conferences/${id}`, {method: "DELETE",
    headers: {"X-CSRF-Token": csrf}});
  return r.status;
}
"""
ENGLISH_JS = """
async () => {
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const r = await fetch("/api/me", {method: "PATCH", body: JSON.stringify({locale: "en"}),
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
  return r.status;
}
"""


def sign_in_in_english(page: Page) -> None:
    """The demo organiser reads Vietnamese; these tests read the English interface."""
    sign_in(page, ORGANISER_EMAIL, ORGANISER_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    assert page.evaluate(ENGLISH_JS) == 200
    page.reload()


def add_site(page: Page, name: str, zone: str) -> None:
    form = page.locator("#site-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Time zone").select_option(zone)
    form.get_by_role("button", name="Add site").click()
    expect(page.locator("#sites tbody")).to_contain_text(name)


def add_session(page: Page, title: str, start: str, end: str, zone: str) -> None:
    steps = page.get_by_role("navigation", name="Preparation steps")
    steps.get_by_role("link", name=re.compile("^Sessions")).click()
    form = page.locator("#session-form")
    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Starts (local time)").fill(start)
    form.get_by_label("Ends (local time)").fill(end)
    form.get_by_label("in the time zone").select_option(zone)
    for site in ("Quang Ngai hall", "Lyon office"):
        form.get_by_label(site).check()
    form.get_by_role("button", name="Add session").click()
    expect(page.locator("#sessions tbody")).to_contain_text(title)


@pytest.fixture
def made(page: Page) -> Iterator[list[int]]:
    """The conferences a test creates (append their ids): deleted after it."""
    ids: list[int] = []
    yield ids
    for cid in ids:
        page.goto(f"/conferences/{cid}")
        assert page.evaluate(DELETE_JS, cid) == 204


def create_conference(page: Page, made: list[int]) -> int:
    page.get_by_role("link", name="New conference").click()
    page.get_by_label("Title", exact=True).fill(TITLE)
    # The zone picker's search: a city that has no zone of its own finds its country's.
    page.get_by_role("searchbox", name="Search: city, country or UTC+7").first.fill("hanoi")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Ho_Chi_Minh")
    page.get_by_label("Starts (local time)").fill("2026-10-19T08:00")
    page.get_by_label("Ends (local time)").fill("2026-10-23T18:00")
    page.get_by_label("Language code 1").fill("vi")
    page.get_by_label("Language code 2").fill("fr")
    page.get_by_role("button", name="Create conference").click()
    # Created: on to the next step, its sites.
    expect(page).to_have_url(re.compile(r"/conferences/\d+/edit\?step=sites&saved=created$"))
    expect(page.locator("#saved-note")).to_contain_text("Conference created")
    found = re.search(r"/conferences/(\d+)/edit", page.url)
    assert found
    made.append(int(found.group(1)))
    return made[-1]


def test_organiser_plans_sessions_in_two_zones_and_reads_the_timetable(
    page: Page, screenshot: Screenshot, made: list[int]
) -> None:
    sign_in_in_english(page)
    cid = create_conference(page, made)
    add_site(page, "Quang Ngai hall", "Asia/Ho_Chi_Minh")
    add_site(page, "Lyon office", "Europe/Paris")
    add_session(page, "Opening", "2026-10-20T09:00", "2026-10-20T10:30", "Asia/Ho_Chi_Minh")
    add_session(page, "Donor briefing", "2026-10-21T09:00", "2026-10-21T10:00", "Europe/Paris")

    # A double booking of the hall is refused with the colliding session named.
    add_collision = page.locator("#session-form")
    add_collision.get_by_label("Title").fill("Press conference")
    add_collision.get_by_label("Starts (local time)").fill("2026-10-20T10:00")
    add_collision.get_by_label("Ends (local time)").fill("2026-10-20T11:00")
    add_collision.get_by_label("Quang Ngai hall").check()
    add_collision.get_by_role("button", name="Add session").click()
    warning = page.locator("#session-problem")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Opening")
    expect(warning).to_contain_text("Quang Ngai hall")
    expect(page.locator("#session-form").get_by_label("Title")).to_have_value("Press conference")
    screenshot(page, "scheduling-editor-conflict")
    page.goto(f"/conferences/{cid}/edit")
    screenshot(page, "scheduling-editor")

    page.goto(f"/conferences/{cid}")
    page.get_by_role("link", name="Timetable").click()
    expect(page).to_have_url(re.compile(rf"/conferences/{cid}/timetable$"))
    opening = page.locator("tr", has_text="Opening")
    expect(opening.locator("td[data-zone='Asia/Ho_Chi_Minh']")).to_contain_text("09:00–10:30")
    expect(opening.locator("td[data-zone='Asia/Ho_Chi_Minh']")).to_contain_text("UTC+07:00")
    expect(opening.locator("td[data-zone='Europe/Paris']")).to_contain_text("04:00–05:30")
    expect(opening.locator("td[data-zone='Europe/Paris']")).to_contain_text("CEST · UTC+02:00")
    briefing = page.locator("tr", has_text="Donor briefing")
    expect(briefing.locator("td[data-zone='Europe/Paris']")).to_contain_text("09:00–10:00")
    expect(briefing.locator("td[data-zone='Asia/Ho_Chi_Minh']")).to_contain_text("14:00–15:00")
    screenshot(page, "scheduling-timetable")


def test_calendar_invitations_without_a_mail_server_offer_the_download(
    page: Page, screenshot: Screenshot, made: list[int]
) -> None:
    sign_in_in_english(page)
    cid = create_conference(page, made)
    add_site(page, "Quang Ngai hall", "Asia/Ho_Chi_Minh")
    add_site(page, "Lyon office", "Europe/Paris")
    add_session(page, "Opening", "2026-10-20T09:00", "2026-10-20T10:30", "Asia/Ho_Chi_Minh")
    page.goto(f"/conferences/{cid}")
    download = page.get_by_role("link", name="Download the calendar (.ics)")
    ics = page.evaluate(FETCH_JS, download.get_attribute("href"))
    if (
        ics["status"] == 404
        and "calendar.ics" not in page.evaluate(FETCH_JS, "/api/openapi.json")["text"]
    ):
        pytest.skip("TODO: the calendar endpoints (server/calendars) are not registered yet")
    page.get_by_role("button", name="Send calendar invitations").click()
    status = page.locator("#send-invitations-status")
    expect(status).to_contain_text("No mail server is configured")
    expect(download).to_be_focused()
    screenshot(page, "scheduling-invitations-no-smtp")
    assert ics["status"] == 200, ics["text"]
    assert ics["type"].startswith("text/calendar")
    body = ics["text"]
    assert "BEGIN:VCALENDAR" in body and "SUMMARY:Opening" in body
    assert "TZID:Asia/Ho_Chi_Minh" in body
