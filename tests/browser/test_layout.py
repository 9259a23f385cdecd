"""The main pages fit the screen: no horizontal scrolling at 1366 px or on a 390 px phone, in
English, Vietnamese and Lao (issue 17). A screenshot of each is saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Screenshot
from tests.browser.test_home import sign_in
from tests.main_pages import MAIN_PAGES

PAGES = MAIN_PAGES
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.parametrize("width", [1366, 390])
def test_main_pages_have_no_horizontal_overflow(
    page: Page, screenshot: Screenshot, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "admin@concord.example", "concord-admin")
    overflowing: dict[str, int] = {}
    for locale in ("en", "vi", "lo"):
        page.goto("/account")
        with page.expect_navigation():  # (the menu sends its form when it changes)
            page.locator("#locale-select").select_option(locale)
        for path in PAGES:
            page.goto(path)
            extra = page.evaluate(OVERFLOW_JS)
            if extra > 1:
                overflowing[f"{locale} {path}"] = extra
            screenshot(page, f"layout-{width}-{locale}-{path}")
    assert not overflowing, f"wider than the {width} px screen by (px): {overflowing}"
