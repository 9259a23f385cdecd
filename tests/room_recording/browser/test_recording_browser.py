"""In Chromium: the chair starts recording from the console, the main hall's site page shows the
red REC indicator counting; after the stop, the playback page loads the floor video and offers
its language selector. Screenshots: test-output/browser/recording-site.png,
recording-console.png and recording-playback.png."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.test_room import JOIN_TIMEOUT, sign_in, wait_for, wait_in_room

CONFERENCE, MAIN_HALL = 2, 3


def test_the_site_shows_rec_and_the_recording_plays(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    organiser = new_context("organiser")
    hall = organiser.new_page()
    hall.goto("/healthz")
    sign_in(hall)
    hall.goto(f"/conferences/{CONFERENCE}/room?site={MAIN_HALL}&autojoin=1")
    wait_in_room(hall, "main hall")
    indicator = hall.locator("#rec-indicator")
    expect(indicator).to_be_hidden()

    console = organiser.new_page()
    console.goto(f"/conferences/{CONFERENCE}/console")
    wait_for(
        console,
        "the console joined with the right to chair",
        "() => window.concord && window.concord.canChair === true && window.concord.state",
        timeout=JOIN_TIMEOUT,
    )
    start = console.locator("#recording-start")
    expect(start).to_be_enabled()
    start.click()

    expect(indicator).to_be_visible(timeout=5000)
    expect(indicator).to_have_attribute("data-recording", "true")
    expect(indicator).to_contain_text("●")  # "REC" in the reader's language
    expect(console.locator("#rec-indicator")).to_be_visible()
    expect(console.locator("#recording-stop")).to_be_visible()
    expect(indicator.locator("[data-recording-elapsed]")).to_have_text(
        re.compile(r"^0:0[3-9]$"), timeout=8000
    )
    screenshot(hall, "recording-site")
    screenshot(console, "recording-console")

    console.locator("#recording-stop").click()
    expect(indicator).to_be_hidden(timeout=15000)
    expect(console.locator("#recording-start")).to_be_visible()

    hall.goto(f"/conferences/{CONFERENCE}/recordings")
    row = hall.locator("#recordings-table tbody tr").first
    expect(row).to_have_attribute("data-status", "finished")
    row.locator("th a").click()
    expect(hall.locator("#recording-language-select")).to_be_visible()
    assert hall.locator("#recording-language-select option").count() >= 1
    hall.wait_for_function(
        "() => document.getElementById('recording-video').readyState >= 1", timeout=10000
    )
    assert hall.evaluate("document.getElementById('recording-video').duration") > 2
    screenshot(hall, "recording-playback")
