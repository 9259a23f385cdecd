"""Received video on a long link waits for retransmissions (static/js/long_link.js, issue 15).

The weak-link test (test_weak_link.py) shows the effect over 3 minutes; this one pins the rule
in a real Chromium: how long video waits for each round trip, and that the wait is set on (and
taken back from) the video receivers of a real peer connection, never on the audio ones.
"""

from __future__ import annotations

from playwright.sync_api import Page

WAITS_JS = """
async (rtts) => {
  const { videoWaitMs } = await import("/static/js/long_link.js");
  return rtts.map((rtt) => videoWaitMs(rtt));
}
"""

# Two peer connections in the page, one sending a canvas's picture and a tone, the other
# receiving them; holdVideo on the receiving one, then back to the browser's own choice.
HOLD_JS = """
async () => {
  const { holdVideo } = await import("/static/js/long_link.js");
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, 10, 10);
  const audio = new AudioContext().createMediaStreamDestination().stream.getAudioTracks()[0];
  const sender = new RTCPeerConnection();
  const receiver = new RTCPeerConnection();
  sender.onicecandidate = (e) => e.candidate && receiver.addIceCandidate(e.candidate);
  receiver.onicecandidate = (e) => e.candidate && sender.addIceCandidate(e.candidate);
  sender.addTrack(canvas.captureStream(5).getVideoTracks()[0]);
  sender.addTrack(audio);
  await sender.setLocalDescription();
  await receiver.setRemoteDescription(sender.localDescription);
  await receiver.setLocalDescription();
  await sender.setRemoteDescription(receiver.localDescription);
  const targets = () => receiver.getReceivers().map((r) => [r.track.kind, r.jitterBufferTarget]);
  const held = holdVideo(receiver, 700);
  const heldTargets = targets();
  const again = holdVideo(receiver, 700);
  const released = holdVideo(receiver, 0);
  const out = {held, heldTargets, again, released, releasedTargets: targets()};
  sender.close();
  receiver.close();
  return out;
}
"""


def test_video_waits_a_little_longer_than_the_round_trip_on_a_long_link(page: Page) -> None:
    page.goto("/login")
    waits = page.evaluate(WAITS_JS, [None, 0.02, 0.149, 0.15, 0.25, 0.5, 0.7, 1.5])
    # Short links: the browser's own choice. Long ones: 1.2 round trips and 100 ms, rounded up
    # to 100 ms, at most a second.
    assert waits == [0, 0, 0, 300, 400, 700, 1000, 1000]


def test_the_wait_is_set_on_video_receivers_only_and_taken_back(page: Page) -> None:
    page.goto("/login")
    out = page.evaluate(HOLD_JS)
    assert out["held"] == 1 and out["again"] == 0 and out["released"] == 1, out
    assert sorted(out["heldTargets"]) == [["audio", None], ["video", 700]], out
    assert sorted(out["releasedTargets"]) == [["audio", None], ["video", None]], out
