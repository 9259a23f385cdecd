"""The browser harness of tests/browser (a demo server and Chromium in a private network
namespace), for the recording's browser test: its fixtures and hooks, scoped to this package."""

from tests.browser.conftest import (
    browser,
    browser_context,
    chromium_wrapper,
    concord_server,
    netns,
    new_context,
    output_dir,
    page,
    playwright,
    pytest_collection_modifyitems,
    pytest_runtest_makereport,
    screenshot,
)

__all__ = [
    "browser",
    "browser_context",
    "chromium_wrapper",
    "concord_server",
    "netns",
    "new_context",
    "output_dir",
    "page",
    "playwright",
    "pytest_collection_modifyitems",
    "pytest_runtest_makereport",
    "screenshot",
]
