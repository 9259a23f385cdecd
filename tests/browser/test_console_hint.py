"""The chair console says why the pictures stay black when its media never connects (issue 17):
here a browser that gathers no usable ICE candidate (relay only, and no relay)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import probes
from tests.browser.conftest import NewContext

NO_ICE = """
(() => {
  const Real = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config) {
    return new Real({ ...(config || {}), iceServers: [], iceTransportPolicy: "relay" });
  };
  window.RTCPeerConnection.prototype = Real.prototype;
})();
"""


def test_the_console_explains_media_that_never_connects(new_context: NewContext) -> None:
    context = new_context("organiser")
    context.add_init_script(NO_ICE)
    page = context.new_page()
    page.goto("/healthz")
    probes.sign_in(page, ("organiser@concord.example", "concord-organiser"))
    page.goto("/conferences/2/console")
    page.wait_for_function("() => window.concord && window.concord.state", timeout=15_000)
    error = page.locator("#console-error")
    expect(error).to_have_attribute("data-hint", "media", timeout=25_000)
    expect(error).to_contain_text("15")  # (in the organiser's language)
