"""A site on a long, lossy, narrow international link for 3 minutes (issue 15).

Site 4's Chromium reaches the server only across the lab's link (tests/browser/linked.py):
250 ms each way (a 500 ms round trip), 3% loss and a 500 kbit/s cap in each direction, the
Quang Ngai–Champasak link at its worst. The main hall (camera and microphone) and site 5 are
Chromiums on the server's side. Every 5 s the test reads both sites' statistics of the main
hall's picture and sound (``getStats``) and asserts, with margins, over the 3 minutes:

- no media teardown: one peer connection from start to end, connected at every reading;
- site 4 gets the hall's picture at 12 frames a second or more, overall and while it gets
  the lower quality (``camera.low``, whenever its link is short), or at 85% of the frames
  the hall's browser sends on that layer when a loaded machine makes it send fewer (the
  baseline, measured in the same run), frozen at most 10% of the
  time (its page holds video a round trip longer for lost packets' copies,
  static/js/long_link.js), with at most 5% of its sound concealed, and the sound's delay at
  most 1.5 s at the 95th percentile of the 5-second windows: the link's one-way delay (half
  the ICE round trip) plus the time the sound waited in the jitter buffer (the main hall is
  on the server's side, on its loopback);
- site 5, on a good link in the same room, keeps the full picture (the size the hall's
  browser sends) at its full frame rate (85% or more of the frames the hall sends).

The figures are printed (``-s``) for the notes.
"""

from __future__ import annotations

import itertools
import statistics
import time
from typing import Any

from playwright.sync_api import Page

from tests.browser import linked
from tests.browser.linked import (
    CONFERENCE,
    ORGANISER,
    LinkedContext,
    LinkedLab,
    hall_and_site,
)
from tests.browser.probes import invite, sign_in
from tests.browser.test_room import wait_in_room

linked_lab = linked.linked_lab
linked_context = linked.linked_context

DURATION = 180.0
EVERY = 5.0
WARM_UP = 30.0  # seconds before the first reading that counts: the qualities settle
GOOD_SITE = 5

HALL_STATS_JS = """
async () => {
  const c = window.concord;
  const out = {pcs: window.__peerConnections || 0, state: c.pc ? c.pc.connectionState : null,
    now: Date.now(), video: null, audio: null};
  if (!c.pc) return out;
  const mid = (slot) => Object.keys(c.link.layout).find((m) => c.link.layout[m] === slot);
  const stats = await c.pc.getStats();
  stats.forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    if (s.mid === mid("hall.video")) {
      out.video = {frames: s.framesDecoded || 0, width: s.frameWidth || 0,
        height: s.frameHeight || 0, freezes: s.freezeCount || 0,
        frozen: s.totalFreezesDuration || 0, received: s.framesReceived || 0,
        dropped: s.framesDropped || 0, nacks: s.nackCount || 0, plis: s.pliCount || 0,
        keyframes: s.keyFramesDecoded || 0, lost: s.packetsLost || 0,
        packets: s.packetsReceived || 0, buffered: s.jitterBufferDelay || 0,
        emitted: s.jitterBufferEmittedCount || 0};
    } else if (s.mid === mid("hall.audio")) {
      out.audio = {samples: s.totalSamplesReceived || 0, concealed: s.concealedSamples || 0,
        buffered: s.jitterBufferDelay || 0, emitted: s.jitterBufferEmittedCount || 0};
    }
  });
  const video = c.pc.getTransceivers().find((t) => t.mid === mid("hall.video"));
  out.target = video ? video.receiver.jitterBufferTarget : null;
  stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      out.rtt = s.currentRoundTripTime;
    }
  });
  return out;
}
"""


# The main hall's full-size camera as it leaves its browser.
CAMERA_SENT_JS = """
async () => {
  const c = window.concord;
  const mid = (slot) => Object.keys(c.link.layout).find((m) => c.link.layout[m] === slot);
  let out = {frames: 0, width: 0, height: 0, low: 0};
  (await c.pc.getStats()).forEach((s) => {
    if (s.type === "outbound-rtp" && s.mid === mid("camera")) {
      out = {...out, frames: s.framesSent || 0, width: s.frameWidth || 0,
        height: s.frameHeight || 0};
    } else if (s.type === "outbound-rtp" && s.mid === mid("camera.low")) {
      out.low = s.framesSent || 0;
    }
  });
  return out;
}
"""


VIDEO_COUNTS = ("frozen", "received", "dropped", "nacks", "plis", "keyframes", "lost", "packets")


def read(page: Page) -> dict[str, Any]:
    return dict(page.evaluate(HALL_STATS_JS))


def good_site(make: LinkedContext, hall: Page) -> Page:
    """Site 5 on the server's side of the link, in the room."""
    organiser = make("hub", "organiser").new_page()
    link = invite(organiser, CONFERENCE, GOOD_SITE, sign_in(organiser, ORGANISER))
    context = make("hub", f"site-{GOOD_SITE}")
    context.add_init_script(linked.COUNT_PEER_CONNECTIONS_JS)
    page = context.new_page()
    page.goto(link)
    page.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    page.wait_for_function("() => window.concord && window.concord.admission === 'lobby'")
    hall.evaluate("(id) => window.concord.client.admit(id)", GOOD_SITE)
    wait_in_room(page, f"site {GOOD_SITE}")
    return page


def test_a_site_on_a_500_ms_lossy_500_kbit_link_holds_for_3_minutes(
    linked_lab: LinkedLab, linked_context: LinkedContext
) -> None:
    link = linked_lab.link
    hall, weak = hall_and_site(linked_context)
    good = good_site(linked_context, hall)
    # (impaired once in the room: loading the page through it is another matter)
    link.impair(delay=0.250, loss=0.03)
    link.cap(500)
    started = time.monotonic()
    readings: dict[str, list[dict[str, Any]]] = {"weak": [], "good": []}
    sent: list[tuple[float, dict[str, Any]]] = []
    while time.monotonic() - started < WARM_UP + DURATION:
        time.sleep(EVERY)
        sent.append((time.monotonic() - started, hall.evaluate(CAMERA_SENT_JS)))
        for name, page in (("weak", weak), ("good", good)):
            reading = read(page)
            reading["at"] = time.monotonic() - started
            readings[name].append(reading)
            assert reading["pcs"] == 1, f"{name}: a new peer connection: {reading}"
            assert reading["state"] == "connected", f"{name}: {reading}"
    figures = {name: summary(rows) for name, rows in readings.items()}
    print(f"\nweak link: {figures['weak']}\ngood link: {figures['good']}")
    print(f"to the site: {link.stats('a_to_b')}\nfrom the site: {link.stats('b_to_a')}")
    weak_f, good_f = figures["weak"], figures["good"]
    sender = hall_sends(sent)
    print(f"the hall sends: {sender}")
    # 12 frames a second, unless the hall's own browser sends fewer on the layer the site
    # gets: on a loaded machine Chromium lowers camera.low's frame rate by itself (8-10 frames
    # a second were seen), and no link can add frames. Then 85% of what it sends.
    floor = min(12.0, 0.85 * min(sender["fps"], sender["low_fps"] or sender["fps"]))
    assert weak_f["fps"] >= floor, (weak_f, sender)
    low = at_low_quality(readings["weak"], dict(sent))
    print(f"weak link at the lower quality: {low}")
    if low["seconds"] >= 20:  # (a run may spend the minutes at the full picture)
        low_floor = min(12.0, 0.85 * (sender["low_fps"] or sender["fps"]))
        assert low["fps"] >= low_floor, (low, sender)
    # Video waits for the retransmissions on the long link only, and rarely freezes.
    assert None not in weak_f["targets"] and good_f["targets"] == [None], (weak_f, good_f)
    assert weak_f["frozen"] <= 0.10 * weak_f["seconds"], weak_f
    assert weak_f["concealed"] <= 0.05, weak_f
    assert weak_f["delay_p95"] is not None and weak_f["delay_p95"] <= 1.5, weak_f
    # The hall's camera as its browser sends it (on a loaded machine Chromium lowers its
    # resolution and frame rate by itself): the good-link site gets all of it.
    assert good_f["fps"] >= 0.85 * sender["fps"], (good_f, sender)
    assert good_f["width"] == sender["width"], (good_f, sender)


def hall_sends(sent: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    """What the hall's browser sent after the warm-up: its full camera's frame rate and
    (median) width, and camera.low's frame rate while it was sent (None: never)."""
    counted = [(at, camera) for at, camera in sent if at >= WARM_UP]
    (began, first), (ended, last) = counted[0], counted[-1]
    sending = [(a, b) for a, b in itertools.pairwise(counted) if b[1]["low"] > a[1]["low"]]
    low_seconds = sum(b[0] - a[0] for a, b in sending)
    low_frames = sum(b[1]["low"] - a[1]["low"] for a, b in sending)
    return {
        "fps": round((last["frames"] - first["frames"]) / (ended - began), 1),
        "width": statistics.median(c["width"] for _, c in counted),
        "low_fps": round(low_frames / low_seconds, 1) if low_seconds >= 10 else None,
        "low_seconds": round(low_seconds),
    }


def at_low_quality(rows: list[dict[str, Any]], sent: dict[float, dict[str, Any]]) -> dict[str, Any]:
    """Seconds and frame rate over the windows (after the warm-up) that began and ended with
    a picture narrower than the one the hall sent at that moment, and showed frames:
    ``camera.low``. (Paused video counts against the overall frame rate and freezes.)"""
    sent_at = sorted(sent)

    def low(row: dict[str, Any]) -> bool:
        hall = sent[max((at for at in sent_at if at <= row["at"]), default=sent_at[0])]
        return bool(row["video"]) and 0 < row["video"]["width"] < hall["width"]

    counted = [r for r in rows if r["at"] >= WARM_UP]
    # (a window in which no frame came is the picture paused for the site, not shown small)
    pairs = [
        (p, r)
        for p, r in itertools.pairwise(counted)
        if low(p) and low(r) and r["video"]["frames"] > p["video"]["frames"]
    ]
    seconds = sum(r["at"] - p["at"] for p, r in pairs)
    frames = sum(r["video"]["frames"] - p["video"]["frames"] for p, r in pairs)
    return {"seconds": round(seconds), "fps": round(frames / seconds, 1) if seconds else None}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Frame rate, sizes, concealment and delay over the readings after the warm-up."""
    counted = [r for r in rows if r["at"] >= WARM_UP and r["video"] and r["audio"]]
    first, last = counted[0], counted[-1]
    seconds = last["at"] - first["at"]
    samples = last["audio"]["samples"] - first["audio"]["samples"]
    # Each window's delay to the ear: half the ICE round trip (the link, one way) plus the
    # time the sound waited in the jitter buffer (the main hall is on the server's side).
    delays = [
        r["rtt"] / 2
        + (r["audio"]["buffered"] - p["audio"]["buffered"])
        / (r["audio"]["emitted"] - p["audio"]["emitted"])
        for p, r in itertools.pairwise(counted)
        if r.get("rtt") is not None and r["audio"]["emitted"] > p["audio"]["emitted"]
    ]
    return {
        "seconds": round(seconds),
        "fps": round((last["video"]["frames"] - first["video"]["frames"]) / seconds, 1),
        "width": statistics.median(r["video"]["width"] for r in counted),
        "sizes": sorted({(r["video"]["width"], r["video"]["height"]) for r in counted}),
        "freezes": last["video"]["freezes"] - first["video"]["freezes"],
        **{key: round(last["video"][key] - first["video"][key], 1) for key in VIDEO_COUNTS},
        "concealed": round(
            (last["audio"]["concealed"] - first["audio"]["concealed"]) / max(1, samples), 4
        ),
        "targets": sorted({r.get("target") for r in counted}, key=str),
        "video_wait": round(
            (last["video"]["buffered"] - first["video"]["buffered"])
            / max(1, last["video"]["emitted"] - first["video"]["emitted"]),
            3,
        ),
        "delay_p50": round(statistics.median(delays), 3) if delays else None,
        "delay_p95": round(sorted(delays)[int(0.95 * (len(delays) - 1))], 3) if delays else None,
    }
