// WebRTC negotiation with the bridge room (docs/signalling.md, "Media"). No DOM code here.
//
// The client always offers. One RTCPeerConnection carries sendonly transceivers for what the
// site publishes (camera, microphone, optionally screen) and recvonly transceivers for the
// slots it receives; the offer's `layout` names each m-line by its MID. The server runs aiortc,
// which has no trickle ICE and no ICE restart, so we wait for ICE gathering to complete before
// sending the offer, and to recover from a broken connection we close it and offer again on a
// new peer connection (the server keeps the site's admission and floor place meanwhile).
//
// A site's page is `patient`: the server keeps a site's connection across socket drops and says
// when it closed it (consoles' and interpreters' pages are not: they offer again 5 s into
// "disconnected" or at "failed"). For it, an outage of the network is not a broken connection:
// ICE resumes by itself when packets flow again (Chrome's too, even after it said "failed" ~15 s
// into an outage: the server's consent checks revive it), and the server keeps its end for
// SERVER_CONSENT_MS without answers (rooms/ice_consent.py). So a connection that worked is
// waited for while it is "disconnected" or "failed" (offering while the network is down only
// makes peer connections that cannot connect either), and a new one is made only when the
// server says it closed its end (`serverClosed()`, or a re-join answer without it:
// `rejoined(false)`) or the connection stays down longer than the server would keep it
// (STALLED_LIMIT_MS). A connection that never worked and fails is offered again at once.
// No peer connection is made while the signalling socket is down (any page): the page's
// re-join, once it is back, offers if needed.

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
 * The camera's second, lower quality (`camera.low`): half the width and height, at the
 * camera's frame rate (a lower cap made the encoder drop frames unevenly), at most 100 kbit/s. The server sends it to console grid tiles and to receivers
 * whose link cannot carry the full picture (docs/architecture.md, "Two qualities per camera").
 */
export const LOW_QUALITY = Object.freeze({
  scaleResolutionDownBy: 2, maxFramerate: 30, maxBitrate: 100000,
});

/** What a site publishes: its camera twice (full and `camera.low`) and its microphone. */
export function siteSends(camera, microphone) {
  const send = [{ name: "camera", kind: "video", track: camera }];
  if (camera) send.push({ name: "camera.low", kind: "video", track: camera, encodings: [LOW_QUALITY] });
  send.push({ name: "microphone", kind: "audio", track: microphone });
  return send;
}

const ICE_GATHERING_TIMEOUT_MS = 8000; // an unreachable STUN server must not block joining
const SERVER_CONSENT_MS = 30000; // the server's end waits this long for an answer to its checks
const STALLED_LIMIT_MS = SERVER_CONSENT_MS + 10000; // past it the server's end is gone
const DISCONNECTED_GRACE_MS = 5000; // an impatient link's wait before it offers again
const OFFERS_KEPT = 10; // negotiations remembered in `offers`
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
 *   patient     wait out outages (a site's page: see the top of this file)
 */
export class MediaLink {
  constructor({ client, iceServers = [], send = [], receive = [], onTrack = () => {},
    onState = () => {}, patient = false }) {
    this.patient = patient;
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
    this._stalledTimer = null; // set while a connection that worked is down
    this._worked = null; // the peer connection that last reached "connected"
    this.connections = 0; // peer connections made
    this.offers = []; // the last OFFERS_KEPT negotiations: {at, reason}, for whoever debugs
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
          if (err && err.code === "disconnected") {
            // No signalling: the page's re-join (rejoined()) offers again once it is back.
            this._setState("reconnecting", err);
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

  /**
   * After a re-join on a new socket.io session: offer again only if the server no longer holds
   * this page's connection (`held` false, from the join answer) or it is broken here; a
   * connection that is merely disconnected resumes by itself.
   */
  rejoined(held) {
    const pc = this.pc;
    if (held && pc && !["failed", "closed"].includes(pc.connectionState)) return Promise.resolve();
    return this.restart("rejoined");
  }

  /**
   * The server says it closed its end of this page's connection: offer again, unless a new one
   * is being negotiated or works already (the news was about an older one, delayed).
   */
  serverClosed() {
    if (this._running) return this._running;
    if (this.pc && this.pc.connectionState === "connected") return Promise.resolve();
    return this.restart("server closed");
  }

  async _negotiate(reason) {
    if (this.client.connected === false) {
      const err = new Error("not connected to the server");
      err.code = "disconnected";
      throw err;
    }
    this._closePc();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    if (this.connections > 0 && reason !== "screen") this.reconnections += 1;
    this.connections += 1;
    this.offers = [...this.offers.slice(1 - OFFERS_KEPT), { at: Date.now(), reason }];
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
    if (state === "connected") {
      clearTimeout(this._stalledTimer);
      this._stalledTimer = null;
      this._worked = pc;
      this._setState("connected");
    } else if (state === "failed" && (!this.patient || this._worked !== pc)) {
      this.restart("failed"); // (a patient link's never connected: no path to wait for)
    } else if (state === "disconnected" || state === "failed") {
      // Usually the network, not the connection: wait for ICE to resume (see the top).
      this._setState("reconnecting", state);
      if (this._stalledTimer) return;
      this._stalledTimer = setTimeout(() => {
        this._stalledTimer = null;
        if (pc === this.pc && pc.connectionState !== "connected") this.restart("stalled");
      }, this.patient ? STALLED_LIMIT_MS : DISCONNECTED_GRACE_MS);
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
    clearTimeout(this._stalledTimer);
    this._stalledTimer = null;
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
