"""The browser harness of tests/browser (a demo server and Chromium in a private network
namespace), for the signing panel's browser test."""

from tests.browser.conftest import *  # noqa: F403 (fixtures and hooks)
