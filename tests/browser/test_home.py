"""Signing in through the real login form and seeing one's conferences on the home page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Screenshot

ORGANISER_EMAIL = "organiser@concord.example"
ORGANISER_PASSWORD = "concord-organiser"
MOU_TITLE = "Signing of the cooperation MoU between Quang Ngai province"
AID_REVIEW_TITLE = "International conference reviewing foreign aid to Quang Ngai"


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_organiser_sees_both_demo_conferences(page: Page, screenshot: Screenshot) -> None:
    sign_in(page, ORGANISER_EMAIL, ORGANISER_PASSWORD)

    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    titles = page.locator("a.conference-title")
    expect(titles.filter(has_text=re.compile("^" + re.escape(MOU_TITLE)))).to_be_visible()
    expect(titles.filter(has_text=re.compile("^" + re.escape(AID_REVIEW_TITLE)))).to_be_visible()
    expect(titles).to_have_count(2)
    # Signed in: the sign-out button is there (its label is in the organiser's own language).
    expect(page.locator("form[action='/logout'] button")).to_be_visible()

    screenshot(page, "home-organiser")


def test_wrong_password_shows_error_and_stays_signed_out(
    page: Page, screenshot: Screenshot
) -> None:
    sign_in(page, ORGANISER_EMAIL, "not-the-password")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_have_text("wrong e-mail or password")
    expect(page.locator("input[name=email]")).to_have_value(ORGANISER_EMAIL)
    expect(page.locator("form[action='/logout']")).to_have_count(0)
    assert not [c for c in page.context.cookies() if c["name"] == "concord_session"]
    screenshot(page, "login-wrong-password")

    # Still signed out: the home page sends the browser back to the login form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.locator("a.conference-title")).to_have_count(0)
