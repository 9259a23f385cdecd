// WebRTC negotiation with the bridge room (docs/signalling.md, "Media"). No DOM code here.
//
// The client always offers. One RTCPeerConnection carries sendonly transceivers for what the
// site publishes (camera, microphone, optionally screen) and recvonly transceivers for the
// slots it receives; the offer's `layout` names each m-line by its MID. The server runs aiortc,
// which has no trickle ICE and no ICE restart, so we wait for ICE gathering to complete before
// sending the offer, and to recover from a broken connection we close it and offer again on a
// new peer connection (the server keeps the site's admission and floor place meanwhile).

export const SITE_SLOTS = Object.freeze([
  { name: "hall.video", kind: "video" },
  { name: "hall.audio", kind: "audio" },
  { name: "floor.video", kind: "video" },
  { name: "floor.audio", kind: "audio" },
  { name: "presentation.video", kind: "video" },
  { name: "interpretation.audio", kind: "audio" },
  { name: "sign.video", kind: "video" },
]);

/** What a console receives: one grid tile per site, plus the hall's and the floor's sound. */
export function consoleSlots(siteCount) {
  const slots = [];
  for (let i = 0; i < siteCount; i += 1) slots.push({ name: `grid.${i}.video`, kind: "video" });
  slots.push({ name: "hall.audio", kind: "audio" });
  slots.push({ name: "floor.video", kind: "video" });
  slots.push({ name: "floor.audio", kind: "audio" });
  return slots;
}

/**
 * What an interpreter's console publishes and receives (docs/signalling.md, "Interpretation"):
 * its microphone (and its camera in a sign-language booth); what it interprets from
 * (`source.audio`: the floor or a relay booth) and the main hall's and the floor's pictures.
 */
export function interpreterSlots({ video = false } = {}) {
  const publish = [{ name: "microphone", kind: "audio" }];
  if (video) publish.push({ name: "camera", kind: "video" });
  return {
    publish,
    receive: [
      { name: "source.audio", kind: "audio" },
      { name: "hall.video", kind: "video" },
      { name: "floor.video", kind: "video" },
    ],
  };
}

/**
 * The camera's second, lower quality (`camera.low`): half the width and height, at most
 * 15 frames a second and 100 kbit/s. The server sends it to console grid tiles and to receivers
 * whose link cannot carry the full picture (docs/architecture.md, "Two qualities per camera").
 */
export const LOW_QUALITY = Object.freeze({
  scaleResolutionDownBy: 2, maxFramerate: 15, maxBitrate: 100000,
});

/** What a site publishes: its camera twice (full and `camera.low`) and its microphone. */
export function siteSends(camera, microphone) {
  const send = [{ name: "camera", kind: "video", track: camera }];
  if (camera) send.push({ name: "camera.low", kind: "video", track: camera, encodings: [LOW_QUALITY] });
  send.push({ name: "microphone", kind: "audio", track: microphone });
  return send;
}

const ICE_GATHERING_TIMEOUT_MS = 8000; // an unreachable STUN server must not block joining
const DISCONNECTED_GRACE_MS = 5000; // "disconnected" often heals itself; "failed" never does
const PERMANENT_CODES = new Set(["not_admitted", "forbidden", "bad_offer", "bad_layout",
  "invalid", "unknown_site", "too_large", "revoked"]);

/** The codecs every site shares: VP8 (with its RTX) for video, Opus for audio. */
export function preferredCodecs(kind, capabilities) {
  const codecs = (capabilities && capabilities.codecs) || [];
  const main = kind === "video" ? "video/vp8" : "audio/opus";
  const chosen = codecs.filter((c) => c.mimeType.toLowerCase() === main);
  if (kind === "video") {
    chosen.push(...codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx"));
  }
  return chosen;
}

export function preferCodecs(transceiver, kind) {
  if (typeof transceiver.setCodecPreferences !== "function") return;
  // Browsers differ on which capabilities setCodecPreferences checks against (the receiver's,
  // or per direction): try the receiver's first, then the sender's.
  for (const source of [globalThis.RTCRtpReceiver, globalThis.RTCRtpSender]) {
    const codecs = preferredCodecs(kind, source && source.getCapabilities(kind));
    if (!codecs.length) continue;
    try {
      transceiver.setCodecPreferences(codecs);
      return;
    } catch (err) {
      console.warn(`setCodecPreferences(${kind}) refused`, err);
    }
  }
}

/** Resolves when `pc` has gathered all its candidates (or after `timeoutMs`, with what it has). */
export function iceGatheringComplete(pc, timeoutMs = ICE_GATHERING_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      pc.removeEventListener("icecandidate", onCandidate);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const onCandidate = (event) => { if (!event.candidate) done(); };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
    pc.addEventListener("icecandidate", onCandidate);
  });
}

/**
 * One site's (or console's) media connection to the room, renegotiated from scratch whenever
 * it breaks or the server asks (`restart()`).
 *
 * options:
 *   client      a RoomClient (its `offer(sdp, layout)` is used)
 *   iceServers  RTCIceServer[] from the join answer (pages set it anew from a re-join's answer,
 *               whose TURN credentials are fresh, before restart())
 *   send        [{name: "camera" | "camera.low" | "microphone" | "screen", kind,
 *               track: MediaStreamTrack|null, encodings?: RTCRtpEncodingParameters[]}]
 *   receive     [{name: slot name, kind}]
 *   onTrack     (slotName, track) => void, for every received track
 *   onState     (state, detail) => void; state is "connecting", "connected", "reconnecting",
 *               "failed" (gave up: detail is the error) or "closed"
 */
export class MediaLink {
  constructor({ client, iceServers = [], send = [], receive = [], onTrack = () => {},
    onState = () => {} }) {
    this.client = client;
    this.iceServers = iceServers;
    this.send = send.map((s) => ({ ...s }));
    this.receive = receive.map((r) => ({ ...r }));
    this.onTrack = onTrack;
    this.onState = onState;
    this.pc = null;
    this.layout = {}; // mid → name for the current peer connection
    this.state = "new";
    this._closed = false;
    this._running = null; // the negotiation in progress
    this._again = false; // another restart was asked for while one was running
    this._retryTimer = null;
    this._retryDelay = 1000;
    this._disconnectedTimer = null;
    this.connections = 0; // peer connections made
    // New peer connections after the first, but for a screen share (which offers again with
    // another set of tracks): what the technicians see as this page's reconnections.
    this.reconnections = 0;
  }

  _setState(state, detail = null) {
    if (this.state === state && !detail) return;
    this.state = state;
    this.onState(state, detail);
  }

  /** Negotiate now (or once the negotiation in progress is over). */
  start() {
    return this.restart("start");
  }

  /** Close the current peer connection and offer again on a new one. */
  restart(reason = "restart") {
    if (this._closed) return Promise.resolve();
    clearTimeout(this._retryTimer);
    if (this._running) {
      this._again = reason; // (the later reason is the one the next connection is made for)
      return this._running;
    }
    this._running = (async () => {
      do {
        if (this._again) reason = this._again;
        this._again = false;
        try {
          this._setState(this.pc ? "reconnecting" : "connecting", reason);
          await this._negotiate(reason);
          this._retryDelay = 1000;
        } catch (err) {
          if (this._closed) return;
          if (err && PERMANENT_CODES.has(err.code)) {
            this._setState("failed", err);
            return;
          }
          // Transient (disconnected, timeout, rate_limited, not_joined during a re-join…).
          console.warn("offer failed, retrying", err);
          this._setState("reconnecting", err);
          this._retryTimer = setTimeout(() => this.restart("retry"), this._retryDelay);
          this._retryDelay = Math.min(this._retryDelay * 2, 10000);
          return;
        }
      } while (this._again && !this._closed);
    })().finally(() => { this._running = null; });
    return this._running;
  }

  async _negotiate(reason) {
    this._closePc();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    if (this.connections > 0 && reason !== "screen") this.reconnections += 1;
    this.connections += 1;
    const named = [];
    for (const s of this.send) {
      const init = { direction: "sendonly" };
      if (s.encodings) init.sendEncodings = s.encodings.map((e) => ({ ...e }));
      const transceiver = pc.addTransceiver(s.track || s.kind, init);
      preferCodecs(transceiver, s.kind);
      named.push([transceiver, s.name]);
    }
    for (const r of this.receive) {
      const transceiver = pc.addTransceiver(r.kind, { direction: "recvonly" });
      preferCodecs(transceiver, r.kind);
      named.push([transceiver, r.name]);
    }
    pc.addEventListener("track", (event) => {
      const slot = this.layout[event.transceiver.mid];
      if (pc === this.pc && slot) this.onTrack(slot, event.track);
    });
    pc.addEventListener("connectionstatechange", () => this._onConnectionState(pc));

    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    if (pc !== this.pc) throw new Error("superseded");
    const layout = {};
    for (const [transceiver, name] of named) layout[transceiver.mid] = name;
    this.layout = layout;
    const answer = await this.client.offer(pc.localDescription.sdp, layout);
    if (pc !== this.pc || this._closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  _onConnectionState(pc) {
    if (pc !== this.pc || this._closed) return;
    const state = pc.connectionState;
    clearTimeout(this._disconnectedTimer);
    if (state === "connected") {
      this._setState("connected");
    } else if (state === "failed") {
      this.restart("failed");
    } else if (state === "disconnected") {
      this._setState("reconnecting", "disconnected");
      this._disconnectedTimer = setTimeout(() => {
        if (pc === this.pc && pc.connectionState === "disconnected") this.restart("disconnected");
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /** The published track `name` (camera, microphone) without renegotiating. */
  async replaceTrack(name, track) {
    const entry = this.send.find((s) => s.name === name);
    if (!entry) return;
    entry.track = track;
    const index = this.send.indexOf(entry);
    const transceiver = this.pc && this.pc.getTransceivers()[index];
    if (transceiver) await transceiver.sender.replaceTrack(track);
  }

  /**
   * Stop sending the published tracks named in `paused` and send the others (the server's
   * `media.sending`: a camera quality nobody receives now). No renegotiation: the sender's
   * encoding is made inactive, and a new peer connection starts out sending everything.
   */
  async pause(paused) {
    const pc = this.pc;
    if (!pc) return;
    const transceivers = pc.getTransceivers();
    for (const [index, entry] of this.send.entries()) {
      const sender = transceivers[index] && transceivers[index].sender;
      if (!sender || !entry.track) continue;
      const params = sender.getParameters();
      if (!params.encodings || !params.encodings.length) continue;
      const active = !paused.includes(entry.name);
      if (params.encodings.every((e) => e.active === active)) continue;
      params.encodings.forEach((e) => { e.active = active; });
      try {
        await sender.setParameters(params);
      } catch (err) {
        console.warn(`pausing ${entry.name} refused`, err);
      }
    }
  }

  /** Start (track) or stop (null) publishing a screen: the m-line set changes, so offer again. */
  async setScreen(track) {
    this.send = this.send.filter((s) => s.name !== "screen");
    if (track) this.send.push({ name: "screen", kind: "video", track });
    await this.restart("screen");
  }

  _closePc() {
    clearTimeout(this._disconnectedTimer);
    if (this.pc) {
      const old = this.pc;
      this.pc = null;
      old.close();
    }
  }

  close() {
    this._closed = true;
    clearTimeout(this._retryTimer);
    this._closePc();
    this._setState("closed");
  }
}
