"""The signing panel in real browsers: the chair opens the signing from the console, the two
site pages show the document hashes and each signatory's confirmation form, the signatories
confirm with their passwords, and every page shows the progress up to "2 of 2 signed ✓".

The demo's secretary (at the Quang Ngai hall, site 1) and technician (at the Champasak hall,
site 2) are the signatories; the organiser opens both site pages (a chair may join as any site,
and a signatory may sign from any page of their site). All HTTP calls are made by Chromium.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.i18n import Catalogues
from tests.agreements.conftest import tiny_pdf
from tests.browser.conftest import NewContext, Screenshot
from tests.browser.test_room import JOIN_TIMEOUT, sign_in, wait_for, wait_in_room

pytestmark = pytest.mark.browser
MOU = 1
SIGNERS = (
    ("secretary@concord.example", "concord-secretary", 1),
    ("technician@concord.example", "concord-technician", 2),
)

SETUP_JS = """
async ([conference, csrf, pdf, signers]) => {
  const send = async (path, body, type = "application/json") => {
    const r = await fetch(path, {method: "POST", body,
      headers: {"Content-Type": type, "X-CSRF-Token": csrf}});
    const answer = await r.json();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const base = `/api/conferences/${conference}/agreements`;
  const made = await send(base, JSON.stringify({title: "MoU (browser test)", kind: "mou",
    parties: [{name: "Quang Ngai Provincial People's Committee"},
              {name: "Champasak Province Administration"}]}));
  const bytes = Uint8Array.from(atob(pdf), (c) => c.charCodeAt(0));
  await send(`${base}/${made.id}/versions?language=vi&name=mou-vi.pdf`, bytes, "application/pdf");
  let last = null;
  for (const [i, [email, site]] of signers.entries()) {
    last = await send(`${base}/${made.id}/signatories`,
      JSON.stringify({party_id: made.parties[i].id, email, site_id: site}));
  }
  return last;
}
"""


# "0 of 2 signed", "0/2 đã ký"...: the pages speak their readers' languages.
NONE_SIGNED = re.compile(r"^0\D+2\b")
ALL_SIGNED = re.compile(r"^2\D+2\b.*✓")


def progress(page: Page) -> Any:
    return page.locator("#signing .signing-progress")


def test_the_chair_opens_and_two_sites_sign(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    organiser = new_context("organiser")
    console = organiser.new_page()
    console.goto("/healthz")
    csrf = sign_in(console)
    pdf = base64.b64encode(tiny_pdf("MoU")).decode()
    agreement = console.evaluate(
        SETUP_JS, [MOU, csrf, pdf, [[email, site] for email, _, site in SIGNERS]]
    )
    sha256 = agreement["versions"][0]["sha256"]

    console.goto(f"/conferences/{MOU}/console")
    wait_for(
        console,
        "the console joined",
        "() => window.concord && window.concord.canChair === true && window.concord.state",
        timeout=JOIN_TIMEOUT,
    )
    sites: dict[int, Page] = {}
    for _, _, site in SIGNERS:
        page = organiser.new_page()
        page.goto(f"/conferences/{MOU}/room?site={site}&autojoin=1")
        wait_in_room(page, f"site {site}")
        sites[site] = page

    opener = console.locator("#signing .signing-draft button")
    expect(opener).to_have_count(1, timeout=JOIN_TIMEOUT * 1000)
    opener.click()
    for page in (console, *sites.values()):
        expect(progress(page)).to_have_text(NONE_SIGNED)
        expect(page.locator("#signing code.hash")).to_have_text(sha256)
    # Each site page offers the form to its own signatory only (one per site here).
    for page in sites.values():
        expect(page.locator("#signing form.signing-form")).to_have_count(1)
    expect(console.locator("#signing form")).to_have_count(0)

    # A wrong password: the page says why, in its reader's language (the organiser reads
    # Vietnamese), and nothing changes.
    first = sites[1].locator("#signing form.signing-form")
    first.locator("input[type=password]").fill("wrong password")
    first.locator("button[type=submit]").click()
    wrong = Catalogues().get("vi").gettext("re-authentication failed: the password is wrong")
    assert wrong != "re-authentication failed: the password is wrong"  # translated
    expect(sites[1].locator("#signing-error")).to_contain_text(wrong)
    expect(progress(console)).to_have_text(NONE_SIGNED)

    for _, password, site in SIGNERS:
        form = sites[site].locator("#signing form.signing-form")
        form.locator("input[type=password]").fill(password)
        form.locator("button[type=submit]").click()
        expect(sites[site].locator("#signing form.signing-form")).to_have_count(0)
    for page in (console, *sites.values()):
        expect(progress(page)).to_have_text(ALL_SIGNED)
    screenshot(sites[2], "signing-site-2")
    screenshot(console, "signing-console")
