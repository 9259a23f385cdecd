"""A new organiser prepares a conference in a real browser, in Vietnamese, from the sign-in page
to a submitted permit, and every action they take is counted (issue 17: at most 25; it took 56
over 15 page loads before the editor had its steps and defaults).

The journey: a conference in Hanoi's time zone with Vietnamese and a Lao booth, two sites in
two countries (Quang Ngai, Champasak), one session, each site's invitation link e-mailed to its
contact, and the permit application submitted. The test serves a fresh Concord of its own
(port 8090, an account made with ``concord user add``, no demo) with an SMTP server (aiosmtpd,
port 8025) in the harness's namespace, and reads the letters it received.

An action is what the organiser does with the keyboard or the mouse: filling a field (typed
as one action, as a browser's autofill or paste would), choosing an option, ticking a box,
pressing a button or a link. Opening the sign-in page is where the journey starts.
"""

from __future__ import annotations

import datetime as dt
import email
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import (
    Namespace,
    Screenshot,
    _stop,
    concord_command,
    serve,
)

PORT = 8090  # not the shared server's
SMTP_PORT = 8025
ACTIONS_ALLOWED = 25
EMAIL, PASSWORD = "new.organiser@quangngai.example", "journey-organiser-2027"
CONTACTS = {
    "Quảng Ngãi hall": "hall@quangngai.example",
    "Champasak Department of Foreign Affairs": "dfa@champasak.example",
}
APPLICATION_JS = """
async (id) => (await fetch(`/api/permits/${id}`)).json()
"""


@dataclass
class Counted:
    """The organiser's page, with each action counted and named (for the failure message)."""

    page: Page
    done: list[str] = field(default_factory=list)

    def fill(self, where: Locator, value: str) -> None:
        where.fill(value)
        self.done.append(f"fill {value!r}")

    def click(self, where: Locator, what: str) -> None:
        where.click()
        self.done.append(f"press {what}")


@dataclass
class Journey:
    url: str
    maildir: Path


@pytest.fixture
def fresh_concord(netns: Namespace, tmp_path: Path, output_dir: Path) -> Iterator[Journey]:
    """A Concord with no conference and one new organiser, and a mail server, both in the
    namespace; the letters land in ``maildir``."""
    data_dir, maildir = tmp_path / "data", tmp_path / "mail"
    data_dir.mkdir()
    log = output_dir / "journey-server.log"
    smtp = subprocess.Popen(
        netns.command(
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{SMTP_PORT}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ),
        stdin=subprocess.DEVNULL,
    )
    server = None
    try:
        new_organiser = ["--email", EMAIL, "--password", PASSWORD, "--role", "organiser"]
        for verb in (
            ["db", "upgrade"],
            ["user", "add", *new_organiser, "--name", "Nguyễn Thị Lan", "--locale", "vi"],
        ):
            made = subprocess.run(
                netns.command(*concord_command(data_dir, PORT), *verb),
                capture_output=True,
                timeout=120,
                check=False,
            )
            assert made.returncode == 0, made.stderr.decode()
        settings = {
            "CONCORD_SMTP_HOST": "127.0.0.1",
            "CONCORD_SMTP_PORT": str(SMTP_PORT),
            "CONCORD_SMTP_SECURITY": "none",
            "CONCORD_SMTP_FROM": "concord@quangngai.example",
        }
        server = serve(netns, data_dir, PORT, log, settings=settings)
        yield Journey(f"http://127.0.0.1:{PORT}", maildir)
    finally:
        if server is not None:
            _stop(server)
        _stop(smtp)


def letters(maildir: Path) -> list[email.message.Message]:
    return (
        [
            email.message_from_bytes(path.read_bytes())
            for path in sorted((maildir / "new").glob("*"))
        ]
        if (maildir / "new").exists()
        else []
    )


def local(day: dt.date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00"


def test_a_new_organiser_prepares_a_conference_in_at_most_25_actions(
    browser: Browser, fresh_concord: Journey, screenshot: Screenshot
) -> None:
    context = browser.new_context(
        base_url=fresh_concord.url,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        viewport={"width": 1366, "height": 900},
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        you = Counted(page)
        day = dt.date.today() + dt.timedelta(days=75)  # well ahead of the permit's deadline
        page.goto("/login")

        # 1–3: sign in.
        you.fill(page.locator("input[name=email]"), EMAIL)
        you.fill(page.locator("input[name=password]"), PASSWORD)
        you.click(page.locator("form[action='/login'] button[type=submit]"), "Đăng nhập")
        expect(page).to_have_url(re.compile(r"/$"))

        # 4–9: the basics. The zone is the browser's (Hanoi) and Vietnamese is proposed.
        you.click(page.locator("a[href='/conferences/new']").first, "new conference")
        expect(page.locator("#c-zone")).to_have_value("Asia/Ho_Chi_Minh")
        expect(page.locator("input[name=language_0]")).to_have_value("vi")
        you.fill(page.locator("#c-title"), "Lễ ký kết hợp tác Quảng Ngãi – Champasak 2027")
        you.fill(page.locator("#c-starts"), local(day, 8))
        you.fill(page.locator("#c-ends"), local(day, 11))
        you.fill(page.locator("input[name=language_1]"), "lo")  # floor and booth by default
        you.click(page.locator("#conference-form button[type=submit]"), "create")
        expect(page).to_have_url(re.compile(r"/edit\?step=sites&saved=created$"))
        found = re.search(r"/conferences/(\d+)/", page.url)
        assert found
        cid = int(found.group(1))

        # 10–16: two sites, the second found by its city's Vietnamese name.
        sites = page.locator("#site-form")
        hall, dfa = CONTACTS
        you.fill(sites.locator("input[name=name]"), hall)
        you.fill(sites.locator("input[name=contact_email]"), CONTACTS[hall])
        you.click(sites.locator("button[type=submit]"), "add site")
        expect(page.locator("#sites tbody")).to_contain_text(hall)
        sites = page.locator("#site-form")
        you.fill(sites.locator("input[name=name]"), dfa)
        you.fill(sites.locator(".zone-search"), "Viêng Chăn")
        expect(sites.locator("select[name=time_zone]")).to_have_value("Asia/Vientiane")
        you.fill(sites.locator("input[name=contact_email]"), CONTACTS[dfa])
        you.click(sites.locator("button[type=submit]"), "add site")
        expect(page.locator("#sites tbody")).to_contain_text(dfa)

        # 17: a link for each site, e-mailed to its contact.
        you.click(page.locator("form[action*='/invitations/every-site'] button"), "links")
        made = page.locator("#made-links")
        expect(made.locator("code")).to_have_count(2)
        links = made.locator("code").all_text_contents()
        screenshot(page, "journey-links")

        # 18–19: the first session proposes the whole conference, for every site.
        steps = page.locator("nav.steps")
        you.click(steps.locator(f"a[href='/conferences/{cid}/edit?step=sessions']"), "sessions")
        you.click(page.locator("#session-form button[type=submit]"), "add session")
        expect(page.locator("#sessions tbody tr")).to_have_count(1)
        expect(page.locator("#sessions tbody")).to_contain_text("08:00–11:00")

        # 20–25: the permit, its foreign participants proposed from the site in Laos.
        you.click(page.locator(f"nav.steps a[href='/conferences/{cid}/permit']"), "permit")
        expect(page.locator("input[name=organisation_0]")).to_have_value(dfa)
        you.fill(page.locator("textarea[name=purpose]"), "Ký biên bản ghi nhớ hợp tác 2027")
        you.fill(page.locator("input[name=funding_source]"), "Ngân sách tỉnh Quảng Ngãi")
        you.fill(page.locator("input[name=funding_amount]"), "50.000.000")  # as Vietnamese write
        you.fill(page.locator("input[name=number_0]"), "6")
        you.click(page.locator("button[name=then][value=submit]"), "submit")
        expect(page).to_have_url(re.compile(r"/permits/\d+$"))
        screenshot(page, "journey-permit-submitted")
        application = page.evaluate(APPLICATION_JS, int(page.url.rsplit("/", 1)[1]))

        assert len(you.done) <= ACTIONS_ALLOWED, "\n".join(you.done)
        print(f"\nthe new organiser's journey: {len(you.done)} actions")
        assert application["status"] == "submitted", application
        assert float(application["funding_amount"]) == 50_000_000
        assert application["participants"] == [{"country": "LA", "organisation": dfa, "number": 6}]
        sent = {
            str(m["To"]).rsplit("<", 1)[-1].rstrip(">"): m for m in letters(fresh_concord.maildir)
        }
        assert set(sent) == set(CONTACTS.values()), sent
        for letter in sent.values():
            body = letter.get_payload(decode=True).decode()  # type: ignore[union-attr]
            assert sum(link in body for link in links) == 1, body
    finally:
        context.close()
