"""The bridge room in real browsers: the main hall and two invited sites join, the chair admits
them from the lobby and gives the floor to one of them (issue 3, "Browser tests").

Conference 2 of the demo (the aid review): its main hall (site 3) is joined by the organiser from
``/conferences/2/room?site=3`` (organisers are admitted at once), sites 4 and 5 open their
invitation links in browser contexts of their own (their own cookie jars, so their own guest
sessions) and wait in the lobby until the organiser's chair console admits them. Every check on
media reads the receiving browser's own WebRTC statistics and pixels: frames decoded, pixel
variance of the picture shown, audio energy of the sound played. As every camera is Chromium's
same fake device, the floor holder finally turns its camera and microphone off, to show that the
others' floor slot carries that site (it goes black and silent) and not the main hall.

Screenshots: test-output/browser/room-site-4.png, room-site-5.png, room-main-hall.png and
room-console.png (taken while site 4 has the floor, before its camera goes off).

All HTTP calls (sign-in, invitations) are made by Chromium itself (``fetch`` in a page): the
server lives in the test namespace, which this pytest process cannot reach.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewContext, Screenshot

ORGANISER_EMAIL = "organiser@concord.example"
ORGANISER_PASSWORD = "concord-organiser"
CONFERENCE = 2  # the aid review: main hall 3, sites 4..27
MAIN_HALL = 3
SITE_A, SITE_B = 4, 5
GUESTS = (SITE_A, SITE_B)

JOIN_TIMEOUT = 20.0  # joining, admission, the peer connection coming up
MEDIA_TIMEOUT = 20.0  # the first frames / sound of a slot
SAMPLE_SECONDS = 2.0  # how long frame counters are watched for growth
MIN_FRAMES = 5  # frames decoded within SAMPLE_SECONDS: a moving picture, not a stray keyframe
BLACK = 8.0  # mean luminance and variance below which a picture is black (a disabled camera)
SILENT_ENERGY = 1e-4  # totalAudioEnergy gained per second by a silent slot (a disabled mic)
POLL_MS = 250

# --- JavaScript run in the pages ----------------------------------------------------------------

# What a site page or the console looks like right now: attached to every failure message.
DESCRIBE_JS = """
() => {
  const c = window.concord;
  const text = (id) => {
    const el = document.getElementById(id);
    return el ? el.textContent.trim() : undefined;
  };
  const root = document.getElementById("room-site") || document.getElementById("room-console");
  const state = c && c.state;
  return {
    url: location.pathname + location.search,
    view: root ? root.dataset.view : undefined,
    admission: c ? c.admission : undefined,
    canChair: c ? c.canChair : undefined,
    link: c && c.link ? c.link.state : null,
    pc: c && c.pc ? c.pc.connectionState : null,
    offers: c && c.link ? c.link.offers : null,
    indicator: (document.getElementById("connection") || {dataset: {}}).dataset.state,
    errors: [text("room-error"), text("console-error"), text("ended-message")].filter(Boolean),
    sites: state ? state.sites.filter((s) => s.admission !== "left" || s.link !== "offline")
      .map((s) => `${s.site_id}:${s.admission}/${s.link}${s.muted ? "/muted" : ""}`) : null,
    floor: state ? state.floor : null,
  };
}
"""

# The receiver of one slot (by the link's layout mid → slot name), its inbound-rtp statistics
# and the media element the page attached the slot to.
SLOT_JS = """
async (slot) => {
  const c = window.concord;
  const pc = c && c.pc;
  const link = c && c.link;
  if (!pc || !link) return {slot, error: "no peer connection yet"};
  const mid = Object.keys(link.layout).find((m) => link.layout[m] === slot);
  const transceiver = pc.getTransceivers().find((t) => mid !== undefined && t.mid === mid);
  if (!transceiver) return {slot, error: `no transceiver for the slot (mid ${mid})`};
  const el = c.elements[slot];
  const elTracks = el && el.srcObject ? el.srcObject.getTracks() : [];
  const out = {
    slot, mid, connection: pc.connectionState,
    receiverTrack: transceiver.receiver.track.id,
    elementTrack: elTracks.length ? elTracks[0].id : null,
    element: el ? {id: el.id || el.dataset.slot, muted: el.muted, paused: el.paused,
      volume: el.volume, readyState: el.readyState, currentTime: el.currentTime,
      videoWidth: el.videoWidth, videoHeight: el.videoHeight} : null,
    inbound: null,
  };
  const stats = await transceiver.receiver.getStats();
  stats.forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    out.inbound = {kind: s.kind, mid: s.mid, trackIdentifier: s.trackIdentifier,
      packetsReceived: s.packetsReceived, packetsLost: s.packetsLost,
      framesReceived: s.framesReceived, framesDecoded: s.framesDecoded,
      keyFramesDecoded: s.keyFramesDecoded, frameWidth: s.frameWidth, frameHeight: s.frameHeight,
      totalAudioEnergy: s.totalAudioEnergy, audioLevel: s.audioLevel,
      totalSamplesReceived: s.totalSamplesReceived};
  });
  return out;
}
"""

# The picture a <video> element shows, drawn into a canvas: the variance of its luminance and a
# checksum (to see the picture change between two draws).
PIXELS_JS = """
(id) => {
  const video = document.getElementById(id);
  if (!video) return {id, error: "no such element"};
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return {id, error: "the element has no picture yet", readyState: video.readyState};
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(video, 0, 0, w, h);
  const data = ctx.getImageData(0, 0, w, h).data;
  let sum = 0, squares = 0, checksum = 0;
  for (let i = 0; i < data.length; i += 4) {
    const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    sum += y;
    squares += y * y;
    checksum = (checksum * 31 + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) % 1000000007;
  }
  const n = data.length / 4;
  const mean = sum / n;
  return {id, width: w, height: h, mean, variance: squares / n - mean * mean, checksum};
}
"""


# --- helpers -------------------------------------------------------------------------------------


def describe(page: Page) -> str:
    try:
        return json.dumps(page.evaluate(DESCRIBE_JS), ensure_ascii=False)
    except PlaywrightError as err:
        return f"(could not describe the page: {err})"


def poll(
    page: Page,
    what: str,
    probe: Callable[[], Any],
    done: Callable[[Any], bool],
    timeout: float,
) -> Any:
    """Call ``probe`` until ``done`` accepts its value; fail with the last value and the page's
    state after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: not within {timeout:.0f} s\n  last value: {value}\n"
                f"  page: {describe(page)}"
            )
        page.wait_for_timeout(POLL_MS)


def slot(page: Page, name: str) -> dict[str, Any]:
    return page.evaluate(SLOT_JS, name)


def inbound(value: dict[str, Any]) -> dict[str, Any]:
    return value.get("inbound") or {}


def sign_in(page: Page) -> str:
    """Sign the organiser in through the JSON API (from inside the page); returns the CSRF token.

    The browser has no cookie of the server yet: a script signing in with JSON and no cookie
    needs no CSRF token (a page such as /login would have set the pre-session CSRF cookie)."""
    answer = page.evaluate(
        """async ([email, password]) => {
          const r = await fetch("/api/session", {method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({email, password})});
          return {status: r.status, body: await r.json()};
        }""",
        [ORGANISER_EMAIL, ORGANISER_PASSWORD],
    )
    assert answer["status"] in (200, 201), f"sign-in failed: {answer}"
    return answer["body"]["csrf_token"]


def invite(page: Page, csrf: str, site_id: int) -> str:
    answer = page.evaluate(
        """async ([conference, site, csrf]) => {
          const r = await fetch(`/api/conferences/${conference}/invitations`, {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
            body: JSON.stringify({site_id: site, role: "delegate"})});
          return {status: r.status, body: await r.json()};
        }""",
        [CONFERENCE, site_id, csrf],
    )
    assert answer["status"] == 201, f"invitation for site {site_id} failed: {answer}"
    url = answer["body"]["url"]
    assert re.match(r"^http://127\.0\.0\.1:\d+/join/", url), url
    return url


def wait_for(
    page: Page, what: str, expression: str, arg: Any = None, timeout: float = 10.0
) -> None:
    """``page.wait_for_function`` with the page's state in the failure message."""
    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout * 1000, polling=POLL_MS)
    except PlaywrightError as err:
        raise AssertionError(
            f"{what}: not within {timeout:.0f} s ({err.message.splitlines()[0]})\n"
            f"  page: {describe(page)}"
        ) from None


def wait_in_room(page: Page, who: str) -> None:
    wait_for(
        page,
        f"{who} in the room with a connected peer connection",
        """() => window.concord && window.concord.view === "room"
              && window.concord.admission === "admitted"
              && window.concord.link && window.concord.link.state === "connected"
              && window.concord.pc && window.concord.pc.connectionState === "connected"
        """,
        timeout=JOIN_TIMEOUT,
    )


def assert_video(page: Page, who: str, slot_name: str, element_id: str) -> str:
    """The slot's video is decoded at a moving frame rate and shown, with a real picture, in
    ``element_id``. Returns a one-line summary."""
    first = poll(
        page,
        f"{who}: first frames decoded on {slot_name}",
        lambda: slot(page, slot_name),
        lambda v: inbound(v).get("framesDecoded", 0) > 0,
        MEDIA_TIMEOUT,
    )
    assert first["element"] is not None and first["element"]["id"] == element_id, first
    assert first["elementTrack"] == first["receiverTrack"], (
        f"{who}: #{element_id} does not show the {slot_name} receiver's track: {first}"
    )
    assert inbound(first)["trackIdentifier"] == first["receiverTrack"], first
    started = time.monotonic()
    page.wait_for_timeout(SAMPLE_SECONDS * 1000)
    second = slot(page, slot_name)
    elapsed = time.monotonic() - started
    frames = inbound(second)["framesDecoded"] - inbound(first)["framesDecoded"]
    assert frames >= MIN_FRAMES, (
        f"{who}: {slot_name} decoded only {frames} frames in {elapsed:.1f} s "
        f"(want ≥ {MIN_FRAMES})\n  before: {first}\n  after: {second}\n  page: {describe(page)}"
    )

    pixels = poll(
        page,
        f"{who}: #{element_id} shows a picture",
        lambda: page.evaluate(PIXELS_JS, element_id),
        lambda v: "error" not in v and v["variance"] > 0,
        MEDIA_TIMEOUT,
    )
    # The picture moves: the same element drawn again a moment later is not the same picture.
    poll(
        page,
        f"{who}: #{element_id}'s picture changes",
        lambda: page.evaluate(PIXELS_JS, element_id),
        lambda v: "error" not in v and v["checksum"] != pixels["checksum"],
        5.0,
    )
    return (
        f"{who} {slot_name}: {frames / elapsed:.1f} fps decoded, "
        f"{pixels['width']}x{pixels['height']}, luminance variance {pixels['variance']:.0f}"
    )


def assert_audio(page: Page, who: str, slot_name: str, element_id: str) -> str:
    """The slot's sound is received with energy > 0 and plays in an unmuted, playing element."""
    enable = page.locator("#enable-sound")
    unblocked = enable.count() > 0 and enable.is_visible()
    if unblocked:
        # The autoplay policy held the sound back: the page offers the button a delegate clicks.
        enable.click()
    first = poll(
        page,
        f"{who}: sound with energy on {slot_name}",
        lambda: slot(page, slot_name),
        lambda v: inbound(v).get("totalAudioEnergy", 0) > 0,
        MEDIA_TIMEOUT,
    )
    assert first["elementTrack"] == first["receiverTrack"], (
        f"{who}: #{element_id} does not play the {slot_name} receiver's track: {first}"
    )
    assert inbound(first)["trackIdentifier"] == first["receiverTrack"], first
    element = first["element"]
    assert element is not None and element["id"] == element_id, first
    assert not element["muted"] and element["volume"] > 0, f"{who}: #{element_id} is muted: {first}"
    # Playing: not paused, and its clock runs; the energy keeps growing (continuous sound).
    second = poll(
        page,
        f"{who}: #{element_id} playing",
        lambda: slot(page, slot_name),
        lambda v: (
            not v["element"]["paused"]
            and v["element"]["readyState"] >= 2
            and v["element"]["currentTime"] > element["currentTime"]
            and inbound(v).get("totalAudioEnergy", 0) > inbound(first)["totalAudioEnergy"]
        ),
        5.0,
    )
    return (
        f"{who} {slot_name}: totalAudioEnergy {inbound(second)['totalAudioEnergy']:.4f}, "
        f"#{element_id} playing at {second['element']['currentTime']:.1f} s"
        + (" (after a click on #enable-sound)" if unblocked else " (autoplay)")
    )


def assert_silent(page: Page, who: str, slot_name: str) -> None:
    """The slot's sound energy stops growing (within MEDIA_TIMEOUT; then watched for 1 s)."""

    def gain() -> dict[str, Any]:
        before = inbound(slot(page, slot_name)).get("totalAudioEnergy", 0.0)
        page.wait_for_timeout(1000)
        after = inbound(slot(page, slot_name)).get("totalAudioEnergy", 0.0)
        return {"before": before, "after": after, "gain": after - before}

    poll(
        page,
        f"{who}: {slot_name} falls silent",
        gain,
        lambda v: v["gain"] < SILENT_ENERGY,
        MEDIA_TIMEOUT,
    )


# --- the test ------------------------------------------------------------------------------------


LOBBY_FOCUS_JS = """() => {
  const title = document.getElementById("lobby-title");
  title.tabIndex = -1;
  title.focus();
}"""


def test_main_hall_and_two_sites_see_and_hear_the_hall_and_the_floor(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    report: list[str] = []

    # The organiser: signs in, invites sites 4 and 5, joins as the main hall, opens the console.
    organiser = new_context("organiser")
    hall = organiser.new_page()
    hall.goto("/healthz")  # a page of the server that sets no cookie, to run fetch() from
    csrf = sign_in(hall)
    links = {site: invite(hall, csrf, site) for site in GUESTS}

    hall.goto(f"/conferences/{CONFERENCE}/room?site={MAIN_HALL}&autojoin=1")
    wait_in_room(hall, "main hall")

    console = organiser.new_page()
    console.goto(f"/conferences/{CONFERENCE}/console")
    wait_for(
        console,
        "the console joined with the right to chair",
        "() => window.concord && window.concord.canChair === true && window.concord.state",
        timeout=JOIN_TIMEOUT,
    )

    # Each site opens its invitation link in its own browser context, then its page; it stops in
    # the lobby: no peer connection, not admitted, shown in the console's lobby.
    sites: dict[int, Page] = {}
    for site in GUESTS:
        page = new_context(f"site-{site}").new_page()
        page.goto(links[site])
        page.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
        wait_for(
            page,
            f"site {site} waiting in the lobby",
            """() => window.concord && window.concord.view === "lobby"
                  && window.concord.admission === "lobby" """,
            timeout=JOIN_TIMEOUT,
        )
        sites[site] = page
    for site, page in sites.items():
        assert page.evaluate("window.concord.pc") is None, f"site {site}: {describe(page)}"
        expect(page.locator("#room-site")).to_have_attribute("data-view", "lobby")
        page.evaluate(LOBBY_FOCUS_JS)

    names = console.evaluate(
        "() => Object.fromEntries(window.concord.state.sites.map((s) => [s.site_id, s.name]))"
    )
    for site in GUESTS:
        name = names[str(site)]
        waiting = console.locator("#lobby-list li").filter(
            has=console.locator(".name", has_text=re.compile(f"^{re.escape(name)}$"))
        )
        try:
            expect(waiting).to_have_count(1, timeout=JOIN_TIMEOUT * 1000)
        except AssertionError as err:
            raise AssertionError(
                f"site {site} ({name}) not in the console's lobby: {err}\n  {describe(console)}"
            ) from None
        waiting.locator("[data-action=admit]").click()

    # Admitted: both sites enter the room and connect their media; a keyboard user's focus,
    # on the lobby's heading (where pressing Join puts it; these pages joined by themselves,
    # so it is put there as Join would), goes with them to the floor button.
    for site, page in sites.items():
        wait_in_room(page, f"site {site}")
        expect(page.locator("#floor-button")).to_be_focused()
    for site in (MAIN_HALL, *GUESTS):
        tile = console.locator(f"#site-grid li.site-tile[data-site-id='{site}']")
        expect(tile).to_have_attribute("data-admission", "admitted")
        expect(tile).to_have_attribute("data-link", "connected", timeout=JOIN_TIMEOUT * 1000)

    # Each site sees and hears the main hall.
    for site, page in sites.items():
        report.append(assert_video(page, f"site {site}", "hall.video", "hall-video"))
        report.append(assert_audio(page, f"site {site}", "hall.audio", "hall-audio"))

    # The chair gives the floor to site 4; site 5 and the main hall see and hear it.
    console.locator(f"#site-grid li.site-tile[data-site-id='{SITE_A}'] [data-action=grant]").click()
    floor_is_a = f"() => window.concord.state && window.concord.state.floor.holder === {SITE_A}"
    for who, page in (("site 5", sites[SITE_B]), ("main hall", hall), ("site 4", sites[SITE_A])):
        wait_for(page, f"{who} knows that site {SITE_A} has the floor", floor_is_a)
    for who, page in (("site 5", sites[SITE_B]), ("main hall", hall)):
        expect(page.locator("#floor-tile")).to_be_visible()
        expect(page.locator("#floor-name")).to_have_text(names[str(SITE_A)])
        report.append(assert_video(page, who, "floor.video", "floor-video"))
        report.append(assert_audio(page, who, "floor.audio", "floor-audio"))
    # The holder is not sent its own picture: its floor tile is hidden.
    expect(sites[SITE_A].locator("#floor-tile")).to_be_hidden()
    wait_for(console, f"the console shows site {SITE_A} holding the floor", floor_is_a)
    expect(
        console.locator(f"#site-grid li.site-tile[data-site-id='{SITE_A}'] .floor-flag")
    ).to_be_visible()

    screenshot(sites[SITE_A], f"room-site-{SITE_A}")
    screenshot(sites[SITE_B], f"room-site-{SITE_B}")
    screenshot(hall, "room-main-hall")
    screenshot(console, "room-console")

    # Every camera here is Chromium's same fake device: to tell whose picture and sound fill the
    # floor slot, site 4 turns its camera and microphone off. The floor slot of site 5 and of the
    # main hall goes black and silent, while site 5 keeps seeing and hearing the main hall.
    holder = sites[SITE_A]
    for toggle in ("#camera-toggle", "#mic-toggle"):
        holder.locator(toggle).click()
        expect(holder.locator(toggle)).to_have_attribute("data-on", "false")
    for who, page in (("site 5", sites[SITE_B]), ("main hall", hall)):
        poll(
            page,
            f"{who}: the floor picture goes black when site {SITE_A}'s camera is off",
            partial(page.evaluate, PIXELS_JS, "floor-video"),
            lambda v: "error" not in v and v["mean"] < BLACK and v["variance"] < BLACK,
            MEDIA_TIMEOUT,
        )
        assert_silent(page, who, "floor.audio")
    still = sites[SITE_B].evaluate(PIXELS_JS, "hall-video")
    assert "error" not in still and still["variance"] > 0 and still["mean"] > BLACK, (
        f"site 5: the main hall's picture went too: {still}"
    )
    report.append(assert_audio(sites[SITE_B], "site 5 (floor silent)", "hall.audio", "hall-audio"))
    report.append(
        f"site {SITE_A} camera and microphone off: the floor slot of site 5 and of the main hall "
        "went black and silent"
    )
    print("\n" + "\n".join(report))
