// A page's own view of its connection, sent to Concord every 2 s (`health.report`,
// docs/signalling.md "Connection health"). No DOM code here.
//
// Concord measures each link from its side; only the browser knows how its received video
// froze, what limits its sending (bandwidth, CPU), the round trip of the candidate pair in use
// and whether its devices changed. `summarise` is pure: it turns one RTCStatsReport and the
// previous counters into the documented BrowserStats and the counters for next time.

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
   *          peer: () => RTCPeerConnection | null, intervalMs?: number}} options
   */
  constructor({ client, peer, intervalMs = REPORT_INTERVAL_MS }) {
    this.client = client;
    this.peer = peer;
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
    if (this.devicesChanged) summary.devices_changed = true;
    this.devicesChanged = false;
    try {
      await this.client.reportHealth(summary);
    } catch (err) {
      console.warn("health.report", err);
    }
  }
}
