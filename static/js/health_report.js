// A page's own view of its connection, sent to Concord every 2 s (`health.report`,
// docs/signalling.md "Connection health"). No DOM code here.
//
// Concord measures each link from its side; only the browser knows how its received video
// froze, how much of its received audio it had to conceal (made up for packets lost or late),
// what limits its sending (bandwidth, CPU), the round trip of the candidate pair in use and
// whether its devices changed. `summarise` is pure: it turns one RTCStatsReport and the
// previous counters into the documented BrowserStats and the counters for next time. The
// reporter adds the page's own reconnection count (new peer connections after the first), and
// carries the counts of a report it could not send into the next one.

export const REPORT_INTERVAL_MS = 2000;

/** Sum of a field over stats of one type (and kind), ignoring missing values. */
export function total(stats, type, field, kind = null) {
  let sum = 0;
  for (const s of stats) {
    if (s.type === type && (kind === null || s.kind === kind) && typeof s[field] === "number") {
      sum += s[field];
    }
  }
  return sum;
}

/**
 * @param {Iterable<object>} stats  the values of an RTCStatsReport
 * @param {{at:number, received:number, lost:number, sent:number, freezes:number}|null} previous
 * @param {number} now  milliseconds (performance.now() or Date.now())
 * @returns {{summary: object, counters: object}}
 */
export function summarise(stats, previous, now) {
  const list = [...stats];
  const counters = {
    at: now,
    received: total(list, "inbound-rtp", "packetsReceived"),
    lost: total(list, "inbound-rtp", "packetsLost"),
    sent: total(list, "outbound-rtp", "bytesSent"),
    freezes: total(list, "inbound-rtp", "freezeCount", "video"),
    frozen: total(list, "inbound-rtp", "totalFreezesDuration", "video"),
    // Concealed samples that were not silence (silence made up while a sender is quiet or
    // sends nothing is not heard as a gap), and every sample played out (concealed included).
    concealed: total(list, "inbound-rtp", "concealedSamples", "audio")
      - total(list, "inbound-rtp", "silentConcealedSamples", "audio"),
    samples: total(list, "inbound-rtp", "totalSamplesReceived", "audio"),
  };
  const summary = {};
  const jitters = list.filter((s) => s.type === "inbound-rtp" && typeof s.jitter === "number");
  if (jitters.length) summary.inbound_jitter = Math.max(...jitters.map((s) => s.jitter));
  summary.frames_decoded = total(list, "inbound-rtp", "framesDecoded", "video");
  summary.freezes = counters.freezes;
  if (previous) {
    const received = Math.max(0, counters.received - previous.received);
    const lost = Math.max(0, counters.lost - previous.lost);
    if (received + lost > 0) summary.inbound_loss = lost / (received + lost);
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    summary.outbound_bitrate = Math.max(0, counters.sent - previous.sent) * 8 / seconds;
    summary.freezes_delta = Math.max(0, counters.freezes - previous.freezes);
    summary.freeze_seconds_delta = Math.max(0, counters.frozen - previous.frozen);
    const samples = Math.max(0, counters.samples - previous.samples);
    summary.audio_samples = samples;
    if (samples > 0) {
      const concealed = Math.max(0, counters.concealed - previous.concealed);
      summary.concealed_audio = Math.min(1, concealed / samples);
    }
  }
  const video = list.find((s) => s.type === "outbound-rtp" && s.kind === "video");
  if (video && video.qualityLimitationReason) summary.limitation = video.qualityLimitationReason;
  const transport = list.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  const pair = transport
    ? list.find((s) => s.id === transport.selectedCandidatePairId)
    : list.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
  if (pair) {
    if (typeof pair.currentRoundTripTime === "number") {
      summary.candidate_rtt = pair.currentRoundTripTime;
    }
    const local = list.find((s) => s.id === pair.localCandidateId);
    if (local && local.candidateType) summary.candidate_type = local.candidateType;
  }
  const microphone = list.find((s) => s.type === "media-source" && s.kind === "audio");
  if (microphone && typeof microphone.audioLevel === "number") {
    summary.audio_level = Math.min(1, Math.max(0, microphone.audioLevel));
  }
  return { summary, counters };
}

/** Sends this page's summary every 2 s while a peer connection exists. */
export class HealthReporter {
  /**
   * @param {{client: {reportHealth(summary: object): Promise<object>},
   *          peer: () => RTCPeerConnection | null, reconnections?: () => number,
   *          intervalMs?: number,
   *          onSummary?: (pc: RTCPeerConnection, summary: object) => void}} options
   *   onSummary  called with each summary before it is sent (a page adapts to its link)
   */
  constructor({ client, peer, reconnections = () => 0, intervalMs = REPORT_INTERVAL_MS,
    onSummary = () => {} }) {
    this.client = client;
    this.onSummary = onSummary;
    this.peer = peer;
    this.reconnections = reconnections;
    this.unsent = null; // the counts of a report that could not be sent
    this.intervalMs = intervalMs;
    this.last = null; // the previous sample's counters
    this.lastPeer = null;
    this.devicesChanged = false;
    this.timer = null;
  }

  start() {
    if (this.timer === null) this.timer = setInterval(() => this.send(), this.intervalMs);
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The page's devices changed (plugged, unplugged, chosen): said with the next report. */
  markDevicesChanged() {
    this.devicesChanged = true;
  }

  async send() {
    const pc = this.peer();
    if (!pc || pc.connectionState === "closed") return;
    if (pc !== this.lastPeer) {
      this.last = null; // a new connection: its counters start again
      this.lastPeer = pc;
    }
    let report;
    try {
      report = await pc.getStats();
    } catch (err) {
      return; // closed meanwhile
    }
    const { summary, counters } = summarise(report.values(), this.last, performance.now());
    this.last = counters;
    this.onSummary(pc, summary);
    if (this.devicesChanged) summary.devices_changed = true;
    this.devicesChanged = false;
    summary.reconnections = this.reconnections();
    const sent = withUnsent(summary, this.unsent);
    try {
      await this.client.reportHealth(sent);
      this.unsent = null;
    } catch (err) {
      this.unsent = sent; // (its socket was down, say): its counts go with the next one
      console.warn("health.report", err);
    }
  }
}

/** `summary` with the counts of an unsent report added (its share concealed re-weighted). */
export function withUnsent(summary, unsent) {
  if (!unsent) return summary;
  const out = { ...summary };
  for (const key of ["freezes_delta", "freeze_seconds_delta"]) {
    if (unsent[key] !== undefined) out[key] = (out[key] || 0) + unsent[key];
  }
  const samples = (summary.audio_samples || 0) + (unsent.audio_samples || 0);
  if (unsent.audio_samples !== undefined || summary.audio_samples !== undefined) {
    out.audio_samples = samples;
    const concealed = (summary.concealed_audio || 0) * (summary.audio_samples || 0)
      + (unsent.concealed_audio || 0) * (unsent.audio_samples || 0);
    if (samples > 0) out.concealed_audio = Math.min(1, concealed / samples);
  }
  return out;
}
