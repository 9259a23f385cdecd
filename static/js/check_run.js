// Runs a site check's loopback call (docs/signalling.md, "Site checks"). No DOM code here:
// static/js/site_check.js shows it.
//
// The page publishes its camera and microphone (sendonly) and receives them back through
// Concord's forwarding on the `echo.video` and `echo.audio` slots (recvonly). For `duration`
// seconds after the connection is up it samples getStats() (health_report.js `summarise`) and
// returns the page's own figures for `check.finish`: rtt (median round trip of the candidate
// pair in use, s), loss (of the echoed media, 0–1), bitrate_up (sent) and bitrate_down
// (echo received) in bit/s, candidate_type; plus what the device steps need: frames sent by
// the camera and the loudest microphone level.

import { iceGatheringComplete, preferCodecs } from "./media.js";
import { summarise, total } from "./health_report.js";

export const CHECK_SEND = Object.freeze([
  { name: "camera", kind: "video" },
  { name: "microphone", kind: "audio" },
]);
export const ECHO_SLOTS = Object.freeze([
  { name: "echo.video", kind: "video" },
  { name: "echo.audio", kind: "audio" },
]);
export const SAMPLE_INTERVAL_MS = 1000;
const CONNECT_TIMEOUT_MS = 15000;

/** Camera and microphone, each on its own so one missing does not lose the other. */
export async function openDevices(mediaDevices = globalThis.navigator?.mediaDevices) {
  const found = { video: null, audio: null, errors: {} };
  if (!mediaDevices || !mediaDevices.getUserMedia) {
    found.errors = { video: "NotSupportedError", audio: "NotSupportedError" };
    return found;
  }
  // More than the room's 640×360: the network test should probe the uplink with headroom.
  const asks = {
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
    audio: true,
  };
  for (const kind of ["video", "audio"]) {
    try {
      const stream = await mediaDevices.getUserMedia({ [kind]: asks[kind] });
      found[kind] = stream.getTracks().find((track) => track.kind === kind) || null;
    } catch (err) {
      found.errors[kind] = err && err.name ? err.name : String(err);
    }
  }
  return found;
}

export function median(values) {
  const found = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (!found.length) return null;
  const mid = Math.floor(found.length / 2);
  return found.length % 2 ? found[mid] : (found[mid - 1] + found[mid]) / 2;
}


/**
 * One sample from a stats report: the health summary plus what the check adds (echo
 * received bitrate, camera frames sent, microphone level). Pure.
 */
export function sampleOf(stats, previous, now) {
  const list = [...stats];
  const { summary, counters } = summarise(list, previous && previous.counters, now);
  counters.bytesReceived = total(list, "inbound-rtp", "bytesReceived");
  const sample = {
    at: now,
    counters,
    rtt: summary.candidate_rtt ?? null,
    loss: summary.inbound_loss ?? null,
    bitrate_up: summary.outbound_bitrate ?? null,
    bitrate_down: null,
    candidate_type: summary.candidate_type || null,
    frames_sent: total(list, "outbound-rtp", "framesEncoded", "video"),
    frames_received: summary.frames_decoded || 0,
    audio_level: summary.audio_level ?? null,
  };
  if (previous) {
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    sample.bitrate_down = Math.max(0, counters.bytesReceived - previous.counters.bytesReceived) * 8 / seconds;
  }
  return sample;
}

/** The page's figures over the whole run (`samples` in order; the first is the baseline). */
export function checkFigures(samples) {
  const figures = {};
  const rtt = median(samples.map((s) => s.rtt));
  if (rtt !== null) figures.rtt = rtt;
  if (samples.length >= 2) {
    const first = samples[0].counters;
    const last = samples[samples.length - 1].counters;
    const received = Math.max(0, last.received - first.received);
    const lost = Math.max(0, last.lost - first.lost);
    if (received + lost > 0) figures.loss = lost / (received + lost);
  }
  const up = median(samples.map((s) => s.bitrate_up));
  if (up !== null) figures.bitrate_up = up;
  const down = median(samples.map((s) => s.bitrate_down));
  if (down !== null) figures.bitrate_down = down;
  const typed = samples.filter((s) => s.candidate_type);
  if (typed.length) figures.candidate_type = typed[typed.length - 1].candidate_type;
  return figures;
}


/**
 * The loopback call. options:
 *   client      a RoomClient after `startCheck` (its `checkOffer` is used)
 *   iceServers  from the check.start answer
 *   tracks      {video: MediaStreamTrack | null, audio: MediaStreamTrack | null}
 *   duration    seconds to measure once connected
 *   onTrack     (slotName, track) => void, for the echoed tracks
 *   onSample    ({elapsed, duration, sample, figures}) => void, every second while measuring
 *   onState     (state) => void: "connecting", "connected", "failed", "closed"
 */
export class CheckRun {
  constructor({ client, iceServers = [], tracks = {}, duration = 20, onTrack = () => {},
    onSample = () => {}, onState = () => {}, intervalMs = SAMPLE_INTERVAL_MS }) {
    Object.assign(this, { client, iceServers, tracks, duration, onTrack, onSample, onState,
      intervalMs });
    this.pc = null;
    this.samples = [];
    this.closed = false;
  }

  /** Negotiates, measures for `duration` seconds and resolves with the run's figures. */
  async run() {
    this.onState("connecting");
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    const named = [];
    for (const s of CHECK_SEND) {
      const track = this.tracks[s.kind] || null;
      const transceiver = pc.addTransceiver(track || s.kind, { direction: "sendonly" });
      preferCodecs(transceiver, s.kind);
      named.push([transceiver, s.name]);
    }
    for (const r of ECHO_SLOTS) {
      const transceiver = pc.addTransceiver(r.kind, { direction: "recvonly" });
      preferCodecs(transceiver, r.kind);
      named.push([transceiver, r.name]);
    }
    const layout = {};
    pc.addEventListener("track", (event) => {
      const slot = layout[event.transceiver.mid];
      if (slot) this.onTrack(slot, event.track);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    for (const [transceiver, name] of named) layout[transceiver.mid] = name;
    const answer = await this.client.checkOffer(pc.localDescription.sdp, layout);
    if (this.closed) return this.result();
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    const connected = await this._connected(pc);
    this.onState(connected ? "connected" : "failed");
    if (connected) await this._measure(pc);
    return this.result();
  }

  _connected(pc) {
    if (pc.connectionState === "connected") return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok) => {
        clearTimeout(timer);
        pc.removeEventListener("connectionstatechange", check);
        resolve(ok);
      };
      const check = () => {
        if (pc.connectionState === "connected") done(true);
        else if (pc.connectionState === "failed" || pc.connectionState === "closed") done(false);
      };
      const timer = setTimeout(() => done(false), CONNECT_TIMEOUT_MS);
      pc.addEventListener("connectionstatechange", check);
    });
  }

  async _measure(pc) {
    const started = performance.now();
    const end = started + this.duration * 1000;
    while (!this.closed) {
      await this._sample(pc, started);
      const now = performance.now();
      if (now >= end) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.intervalMs, end - now)));
    }
  }

  async _sample(pc, started) {
    let report;
    try {
      report = await pc.getStats();
    } catch (err) {
      return; // closed meanwhile
    }
    const now = performance.now();
    const previous = this.samples[this.samples.length - 1] || null;
    const sample = sampleOf(report.values(), previous, now);
    this.samples.push(sample);
    const elapsed = Math.min(this.duration, (now - started) / 1000);
    this.onSample({ elapsed, duration: this.duration, sample, figures: checkFigures(this.samples) });
  }

  /** {figures, frames_sent, frames_received, audio_peak, connected} of what was measured. */
  result() {
    const last = this.samples[this.samples.length - 1];
    const levels = this.samples.map((s) => s.audio_level).filter((v) => typeof v === "number");
    return {
      figures: checkFigures(this.samples),
      frames_sent: last ? last.frames_sent : 0,
      frames_received: last ? last.frames_received : 0,
      audio_peak: levels.length ? Math.max(...levels) : null,
      connected: this.samples.length > 0,
    };
  }

  close() {
    this.closed = true;
    if (this.pc) this.pc.close();
    this.onState("closed");
  }
}
