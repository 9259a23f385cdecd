"""Browser-test harness for a site behind an impaired link: two namespaces, two Chromiums.

Unlike ``tests/browser/conftest.py`` (one namespace, everything on its loopback), this lab has
two network namespaces joined by :class:`tests.netlab.ImpairedLink` (user-space netem between
two TUN devices; the kernel here has no ``sch_netem``):

- ``hub``: the Concord server (``python -m server serve`` on the demo data, through the
  conftest's ``make_demo``/``serve``), listening on the hub's end of the link (10.77.x.1) with
  its ICE host candidates there too, and a Chromium for the sites on a good link (the main
  hall, say), which reaches that address without crossing the link;
- ``site``: a Chromium whose every packet to the server (HTTP, socket.io, ICE, media) crosses
  the link, so a test can delay, lose, cap, block UDP or cut it (``lab.link``).

Both Chromiums treat the server's plain-http origin as secure (camera and microphone need a
secure context). Addresses in 10.77.x exist only inside the two namespaces, which the lab
creates and removes.

Fixtures (import them into a test module: ``linked_lab = linked.linked_lab`` and the same for
``linked_context``):

- ``linked_lab`` (module): the :class:`LinkedLab` (a module that needs the server configured
  otherwise defines its own ``linked_lab`` with :func:`open_linked_lab`);
- ``linked_context`` (function): ``linked_context("site", "site-4")`` opens a fresh browser
  context in the ``site`` (or ``hub``) Chromium, based at the server's URL; every page of it is
  screenshotted to ``test-output/browser/FAILED-<test>-<name>.png`` when the test fails; all
  are closed, and the link made clean again, after the test.

``COUNT_PEER_CONNECTIONS_JS`` (an init script) counts the RTCPeerConnections a page makes, and
:func:`media_counters` reads what a site page has received of the main hall;
:func:`hall_and_site` brings the demo's main hall (good link) and a site (behind the link)
into conference 2's room.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pytest

from tests import netlab
from tests.browser import conftest
from tests.browser.conftest import (
    CHROMIUM_ARGS,
    CONTEXT_OPTIONS,
    Screenshot,
    Server,
    _check_machine,
    _stop,
    browser_env,
    close_contexts,
    make_demo,
    screenshot_failed,
    serve,
    write_chromium_wrapper,
)
from tests.browser.probes import invite, sign_in
from tests.browser.test_room import wait_in_room

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

PORT = 8080  # the hub namespace is new and private, so any port is free
CONFERENCE, MAIN_HALL, SITE = 2, 3, 4  # the demo's aid review: its main hall and a district
ORGANISER = ("organiser@concord.example", "concord-organiser")
Side = Literal["hub", "site"]

# Counts the page's RTCPeerConnections in window.__peerConnections (run before any script of
# the page: context.add_init_script). A subclass, so the page's code sees the usual class.
COUNT_PEER_CONNECTIONS_JS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__counted) return;
  window.__peerConnections = 0;
  class Counted extends Native {
    constructor(...args) {
      super(...args);
      window.__peerConnections += 1;
    }
  }
  Counted.__counted = true;
  window.RTCPeerConnection = Counted;
})();
"""


@dataclass
class LinkedLab:
    """The server in ``hub``, a Chromium in each namespace, the link between them."""

    hub: netlab.Namespace
    site: netlab.Namespace
    link: netlab.ImpairedLink
    server: Server
    browsers: dict[Side, Browser] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url


def _kill_all_in(ns: netlab.Namespace) -> None:
    """Whatever still runs in ``ns`` was started by this lab: kill it before the namespace goes."""
    done = subprocess.run(
        ["ip", "netns", "pids", ns.name], capture_output=True, text=True, check=False
    )
    for pid in done.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def _launch(playwright: Playwright, ns: netlab.Namespace, directory: Path, url: str) -> Browser:
    wrapper = write_chromium_wrapper(conftest.Namespace(ns.name), directory)
    return playwright.chromium.launch(
        executable_path=str(wrapper),
        args=[*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={url}"],
        headless=True,
        env=browser_env(),
        timeout=30_000,
    )


@contextlib.contextmanager
def open_linked_lab(
    playwright: Playwright,
    tmp_path_factory: pytest.TempPathFactory,
    output_dir: Path,
    *,
    name: str = "linked",
    settings: Callable[[str], Mapping[str, str]] | None = None,
) -> Iterator[LinkedLab]:
    """The lab, torn down (browsers, server, link, namespaces) on exit. ``settings(host)``
    gives the server more ``CONCORD_*`` variables, knowing the hub's link address; its log is
    ``test-output/browser/<name>-server.log``."""
    _check_machine()
    with netlab.namespace_factory() as make_ns, netlab.link_factory(make_ns) as make_link:
        hub, site = make_ns(), make_ns()
        link = make_link(hub, site)
        host = link.addr_a
        data_dir = tmp_path_factory.mktemp(f"{name}-data")
        log = output_dir / f"{name}-server.log"
        in_hub = conftest.Namespace(hub.name)
        make_demo(in_hub, data_dir, PORT, log, host)
        extra = settings(host) if settings is not None else None
        process = serve(in_hub, data_dir, PORT, log, host, extra)
        lab = LinkedLab(hub, site, link, Server(f"http://{host}:{PORT}", data_dir, log))
        try:
            sides: tuple[tuple[Side, netlab.Namespace], ...] = (("hub", hub), ("site", site))
            for side, ns in sides:
                directory = tmp_path_factory.mktemp(f"chromium-{side}")
                lab.browsers[side] = _launch(playwright, ns, directory, lab.url)
            yield lab
        finally:
            for browser in lab.browsers.values():
                try:
                    browser.close()
                except Exception:  # already gone
                    pass
            _stop(process)
            for ns in (hub, site):
                _kill_all_in(ns)


@pytest.fixture(scope="module")
def linked_lab(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory, output_dir: Path
) -> Iterator[LinkedLab]:
    """The lab, torn down (browsers, server, link, namespaces) after the module's tests."""
    with open_linked_lab(playwright, tmp_path_factory, output_dir) as lab:
        yield lab


class LinkedContext(Protocol):
    def __call__(self, side: Side, name: str) -> BrowserContext: ...


@pytest.fixture
def linked_context(
    request: pytest.FixtureRequest, linked_lab: LinkedLab, screenshot: Screenshot
) -> Iterator[LinkedContext]:
    """A factory of fresh, signed-out browser contexts on either side of the link."""
    opened: list[tuple[str, BrowserContext]] = []

    def make(side: Side, name: str) -> BrowserContext:
        context = linked_lab.browsers[side].new_context(base_url=linked_lab.url, **CONTEXT_OPTIONS)
        context.set_default_timeout(15_000)
        opened.append((name, context))
        return context

    try:
        yield make
        screenshot_failed(request, screenshot, opened)
    finally:
        linked_lab.link.clear()
        close_contexts(opened)


ROUND_TRIP_JS = """
async () => {
  const stats = await window.concord.pc.getStats();
  let rtt = null;
  stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      rtt = s.currentRoundTripTime;
    }
  });
  return rtt;
}
"""


def round_trip(page: Page) -> float | None:
    """The current round trip (s) of the page's peer connection, as its ICE measured it."""
    value = page.evaluate(ROUND_TRIP_JS)
    return None if value is None else float(value)


# What a site page has received of the main hall, from one getStats() of its current peer
# connection (tagged, to tell a new one from the last): video frames decoded, audio samples
# decoded from packets (not concealment) and audio energy (which grows only while the sound
# plays in an unmuted element); and the page's connection states and peer-connection count.
MEDIA_JS = """
async () => {
  const c = window.concord;
  const pc = c && c.pc;
  const out = {pcs: window.__peerConnections || 0, socket: Boolean(c && c.client.connected),
    link: c && c.link ? c.link.state : null, pc: pc ? pc.connectionState : null, tag: null,
    frames: 0, samples: 0, energy: 0};
  if (!pc) return out;
  if (!pc.__tag) pc.__tag = Math.random().toString(36).slice(2);
  out.tag = pc.__tag;
  const mids = {};
  for (const [mid, name] of Object.entries(c.link.layout)) mids[mid] = name;
  (await pc.getStats()).forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    if (mids[s.mid] === "hall.video") out.frames = s.framesDecoded || 0;
    if (mids[s.mid] === "hall.audio") {
      out.samples = (s.totalSamplesReceived || 0) - (s.concealedSamples || 0);
      out.energy = s.totalAudioEnergy || 0;
    }
  });
  return out;
}
"""


def media_counters(page: Page) -> dict[str, Any]:
    """See ``MEDIA_JS``."""
    counters: dict[str, Any] = page.evaluate(MEDIA_JS)
    return counters


def hall_and_site_in_lobby(make: LinkedContext) -> tuple[Page, Page]:
    """The organiser's main hall (site 3) in ``hub``, in the room with a connected peer
    connection, and site 4 behind the link waiting in the lobby (its page counts its peer
    connections), or already admitted by an earlier test of the module (the server keeps
    admissions); the organiser's page admits it with ``client.admit``."""
    hall = make("hub", "hall").new_page()
    csrf = sign_in(hall, ORGANISER)
    link = invite(hall, CONFERENCE, SITE, csrf)
    hall.goto(f"/conferences/{CONFERENCE}/room?site={MAIN_HALL}&autojoin=1")
    wait_in_room(hall, "main hall")
    site_context = make("site", f"site-{SITE}")
    site_context.add_init_script(COUNT_PEER_CONNECTIONS_JS)
    site = site_context.new_page()
    site.goto(link)
    site.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    site.wait_for_function(
        "() => window.concord && ['lobby', 'admitted'].includes(window.concord.admission)"
    )
    return hall, site


def admit(hall: Page) -> None:
    """The main hall's organiser admits site 4 from the lobby."""
    hall.evaluate("(id) => window.concord.client.admit(id)", SITE)


def hall_and_site(make: LinkedContext) -> tuple[Page, Page]:
    """:func:`hall_and_site_in_lobby`, then the site admitted and in the room with a connected
    peer connection."""
    hall, site = hall_and_site_in_lobby(make)
    if site.evaluate("window.concord.admission") == "lobby":  # not admitted by an earlier test
        admit(hall)
    wait_in_room(site, f"site {SITE}")
    return hall, site
