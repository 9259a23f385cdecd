// Received video on a long link: wait for the retransmissions instead of freezing.
//
// A lost video packet comes back a round trip after the page asks for it (NACK; Concord answers
// from its own history). Chromium shows each frame after a delay of its own choosing, tens of
// milliseconds on a good link, so on a 500 ms round trip every lost packet freezes the picture
// until its copy arrives (issue 15: 96 freezes and 39 s frozen in 3 minutes at 3% loss). Asking
// the receivers to hold video a little longer than a round trip (`jitterBufferTarget`, Chromium
// 114+) lets the copy arrive before its frame is due: the picture is later, not frozen. Sound
// keeps its own short buffer (Opus in-band FEC covers its losses). No DOM code here.

const SHORT_RTT_S = 0.15; // below it, a retransmission arrives within the usual buffer
const MARGIN_MS = 100; // a frame interval or two beyond the round trip
const MAX_WAIT_MS = 1000; // a longer wait makes conversation awkward; freezes are the lesser evil
const STEP_MS = 100; // targets are rounded to this, so a jittery round trip does not move them

/**
 * How long received video should wait for a lost packet's copy, for a round trip of
 * `rttSeconds` (the selected candidate pair's): 0 (the browser's own choice) on a short link.
 * @param {number|null|undefined} rttSeconds
 * @returns {number} milliseconds
 */
export function videoWaitMs(rttSeconds) {
  if (typeof rttSeconds !== "number" || !(rttSeconds >= SHORT_RTT_S)) return 0;
  const wait = Math.ceil((rttSeconds * 1000 * 1.2 + MARGIN_MS) / STEP_MS) * STEP_MS;
  return Math.min(MAX_WAIT_MS, wait);
}

/**
 * Sets every video receiver of `pc` to wait `waitMs` (0: the browser's choice). Returns the
 * number of receivers changed (browsers without `jitterBufferTarget` change none).
 * @param {RTCPeerConnection} pc
 * @param {number} waitMs
 */
export function holdVideo(pc, waitMs) {
  let changed = 0;
  for (const receiver of pc.getReceivers()) {
    if (!receiver.track || receiver.track.kind !== "video") continue;
    if (!("jitterBufferTarget" in receiver)) continue;
    const target = waitMs > 0 ? waitMs : null;
    if (receiver.jitterBufferTarget === target) continue;
    receiver.jitterBufferTarget = target;
    changed += 1;
  }
  return changed;
}
