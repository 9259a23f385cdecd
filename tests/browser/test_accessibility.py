"""axe-core (from npm, through the lock file) finds no critical or serious accessibility
violation on the main pages, in English, Vietnamese and Lao (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import probes
from tests.browser.conftest import NewContext
from tests.browser.test_home import sign_in
from tests.browser.test_layout import PAGES

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => ({id: v.id, impact: v.impact,
                  nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
}"""


def serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


@pytest.mark.parametrize("width", [1366, 390])
def test_main_pages_have_no_serious_accessibility_violations(page: Page, width: int) -> None:
    assert AXE.exists(), "npm ci installs axe-core (package-lock.json)"
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "admin@concord.example", "concord-admin")
    found: dict[str, list[dict[str, Any]]] = {}
    for locale in ("en", "vi", "lo"):
        page.goto("/account")
        with page.expect_navigation():
            page.locator("#locale-select").select_option(locale)
        for path in PAGES:
            page.goto(path)
            violations = serious_violations(page)
            if violations:
                found[f"{locale} {path}"] = violations
    assert not found, found


LIVE = (
    (("admin@concord.example", "concord-admin"), "/conferences/2/console"),
    (("admin@concord.example", "concord-admin"), "/conferences/1/room"),
    (("interpreter.lo@concord.example", "concord-interpreter.lo"), "/conferences/1/booth/lo"),
)


def test_live_pages_have_no_serious_accessibility_violations(new_context: NewContext) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for who, path in LIVE:
        page = new_context(who[0]).new_page()
        page.goto("/healthz")
        probes.sign_in(page, who)
        page.goto(path)
        page.wait_for_function("() => window.concord !== undefined", timeout=15_000)
        page.wait_for_timeout(1500)  # the first room state rendered
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    assert not found, found
