"""The secretary's minutes editor in Chromium: autosave makes revisions, and when two editors
type in the same field the second sees the merge view, chooses, and saves on top."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.test_home import sign_in

MINUTES = "/conferences/2/minutes"  # the 2021 MoU (1) is archived with final minutes
FIELD = "textarea[data-path='{}']"


def revision_saved(page: Page, number: int) -> None:
    expect(page.locator("#save-status")).to_have_attribute(
        "data-revision", str(number), timeout=15_000
    )


def test_autosave_and_the_merge_view(new_context: NewContext, screenshot: Screenshot) -> None:
    secretary = new_context("minutes-secretary").new_page()
    organiser = new_context("minutes-organiser").new_page()
    sign_in(secretary, "secretary@concord.example", "concord-secretary")
    sign_in(organiser, "organiser@concord.example", "concord-organiser")

    secretary.goto(MINUTES)
    start = secretary.locator("button[data-then]")
    if start.count():
        start.click()
    else:
        secretary.goto(MINUTES + "/edit")
    expect(secretary).to_have_url(MINUTES + "/edit")
    expect(secretary.locator("#save-status")).to_have_attribute("data-revision", re.compile(r"\d+"))
    first = secretary.locator("#save-status").get_attribute("data-revision")
    assert first is not None
    base = int(first)

    # Typing saves by itself within a few seconds: a new revision.
    secretary.locator(FIELD.format("items[0].discussion.vi")).fill("Hai bên chào mừng.")
    revision_saved(secretary, base + 1)
    expect(secretary.locator("#save-status")).to_contain_text(str(base + 1))  # any language

    # The organiser opens the same revision; both type in one field, the secretary first.
    organiser.goto(MINUTES + "/edit")
    revision_saved(organiser, base + 1)
    field = "items[1].discussion.en"
    items = secretary.locator("details.minutes-item")
    items.nth(1).locator("summary").click()  # one agenda item is open at a time
    expect(items.nth(0)).not_to_have_attribute("open", "")
    secretary.locator(FIELD.format(field)).fill("Words of the chairman")
    revision_saved(secretary, base + 2)
    # Two fields at once (no autosave in between): one conflicts, the other merges.
    organiser.evaluate(
        """([conflicting, other]) => {
          for (const [path, text] of [[conflicting, "Address"], [other, "Phát biểu"]]) {
            const field = document.querySelector(`textarea[data-path='${path}']`);
            field.value = text;
            field.dispatchEvent(new Event("input"));
          }
        }""",
        [field, "items[2].discussion.vi"],
    )

    merge = organiser.locator("#merge-view")
    expect(merge).to_be_visible(timeout=15_000)
    conflict = merge.locator(f"fieldset[data-path='{field}']")
    expect(conflict).to_contain_text("Words of the chairman")
    expect(conflict).to_contain_text("Address")
    expect(merge.locator("#merge-message")).to_contain_text(str(base + 2))  # in any language
    screenshot(organiser, "minutes-merge-view")
    conflict.locator("input[value=theirs]").check()
    merge.locator("#merge-apply").click()
    expect(merge).to_be_hidden()
    revision_saved(organiser, base + 3)
    expect(organiser.locator(FIELD.format(field))).to_have_value("Words of the chairman")
    expect(organiser.locator(FIELD.format("items[0].discussion.vi"))).to_have_value(
        "Hai bên chào mừng."
    )
    expect(organiser.locator(FIELD.format("items[2].discussion.vi"))).to_have_value("Phát biểu")

    # Read back through the page (the browser is in the server's network namespace).
    body = organiser.evaluate(f"fetch('/api{MINUTES}').then((r) => r.json())")
    assert body["revision"] == base + 3
    assert body["document"]["items"][1]["discussion"]["en"] == "Words of the chairman"
    assert body["document"]["items"][2]["discussion"]["vi"] == "Phát biểu"
    assert body["document"]["items"][0]["discussion"]["vi"] == "Hai bên chào mừng."


def test_final_minutes_open_read_only(new_context: NewContext) -> None:
    """The demo archives the 2021 MoU with final minutes: its editor shows them, locked."""
    page = new_context("minutes-final").new_page()
    sign_in(page, "secretary@concord.example", "concord-secretary")
    page.goto("/conferences/1/minutes/edit")
    fields = page.locator("#minutes-editor textarea")
    expect(fields.first).to_be_disabled()
    assert fields.count() > 0
    assert page.locator("#minutes-editor textarea:enabled").count() == 0
    expect(page.locator("#refresh-room")).to_be_disabled()
    expect(
        page.locator("#minutes-editor textarea[data-path='items[3].discussion.vi']")
    ).to_have_value(re.compile("Biên bản ghi nhớ"))
