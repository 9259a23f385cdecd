// The browser side of docs/signalling.md, namespace /room. No DOM code here: pages build on it.
//
// Every client → server event is an async method that resolves with the server's answer
// (`{ok: true, ...}`) or throws a ProtocolError carrying the stable `code` and the `detail`
// when the answer is `{ok: false}`, when no answer arrives in time (code "timeout") or when
// the socket is not connected (code "disconnected"). Payloads are passed as documented and not
// validated here: the server validates them (server/live/schemas.py).
//
// Server → client events (room.state, room.event, admitted, refused, removed, rejoin, chat,
// booth.chat, health.report, health.change, recording.state, signing.state, revoked,
// server.restarting) and a few local ones are delivered through `on(event, handler)`:
//   "connect", "disconnect" (reason), "connect_error" (ProtocolError),
//   "joined" (the join answer; also after every automatic re-join when the socket reconnects:
//   a new socket.io connection is a new server-side session, so the client joins again with
//   the same payload, and the site keeps its admission and floor place server-side).
// After `server.restarting` {retry_after_ms} the server drops the socket; socket.io reconnects
// by itself, and should the server have closed it with a socket.io disconnect ("io server
// disconnect", which socket.io does not retry), the client connects again after
// retry_after_ms. A restarted server reopens the room as it was: the re-join answers
// "admitted" to a site that was, and pages offer again on "joined".

import { io } from "/vendor/socket.io/socket.io.esm.min.js";
import { NodeUrls } from "./node_urls.js";

export const NAMESPACE = "/room";
export const SERVER_EVENTS = Object.freeze([
  "room.state", "room.event", "admitted", "refused", "removed", "rejoin", "chat", "booth.chat",
  "health.report", "health.change", "recording.state", "signing.state", "revoked",
  "server.restarting", "media.sending", "cluster.nodes",
]);
const LIFECYCLE_EVENTS = ["connect", "disconnect", "connect_error", "joined"];
const DEFAULT_TIMEOUT_MS = 10000;
const OFFER_TIMEOUT_MS = 30000; // the server gathers its ICE candidates before answering
// socket.io doubles its reconnection delay from 1 s up to 5 s: a server that restarts in a few
// seconds would then wait up to 5 s more for the first page. Retrying at least every 2 s
// brings pages back within ~2 s of the server answering; a refused connection costs nothing.
const RECONNECTION_DELAY_MAX_MS = 2000;
// socket.io gives a connection attempt 20 s. After an outage (revive()) one made while the
// network was still down would wait that long for TCP's SYN retransmissions (1 s, 3 s, 7 s…):
// until connected again, attempts are given up sooner and made anew on fresh connections.
const CONNECT_TIMEOUT_MS = 20000;
const OUTAGE_CONNECT_TIMEOUT_MS = 3000;
const REVIVE_TIMEOUT_MS = 2000; // revive(): a live server answers a ping well within this
// In a cluster: after this many failed connection attempts in a row, the node is taken for
// dead and the client tries the next one (NodeUrls); a room between nodes is asked again after
// ROOM_BETWEEN_NODES_MS.
const NODE_DEAD_AFTER_FAILURES = 2;
const ROOM_BETWEEN_NODES_MS = 500;

function openSocket(base) {
  return io(base + NAMESPACE, {
    transports: ["websocket"],
    withCredentials: true,
    autoConnect: false,
    forceNew: true, // (a node returned to after another gets a fresh connection manager)
    reconnectionDelayMax: RECONNECTION_DELAY_MAX_MS,
    timeout: CONNECT_TIMEOUT_MS,
  });
}

export class ProtocolError extends Error {
  constructor(code, detail, event = null) {
    super(event ? `${event}: ${code}: ${detail}` : `${code}: ${detail}`);
    this.name = "ProtocolError";
    this.code = code;
    this.detail = detail;
    this.event = event;
  }
}

export class RoomClient {
  /** @param {{socket?: object, timeoutMs?: number}} options  `socket` is for tests only. */
  constructor({ socket = null, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    this.timeoutMs = timeoutMs;
    this.nodes = new NodeUrls(""); // in a cluster: where to go when this node dies
    this.base = ""; // the node this client talks to ("": the page's own origin)
    this._failures = 0; // connection attempts failed in a row
    this.joinPayload = null; // remembered for the automatic re-join after a reconnection
    this.joined = null; // the last join answer
    this._listeners = new Map();
    this._connectedOnce = false;
    this._restartNotice = null; // the last server.restarting payload, until connected again
    this._retry = null;
    this._reviving = false;
    this._closed = false; // close() was called: no more reconnections
    this._attach(socket || openSocket(""));
  }

  _attach(socket) {
    this.socket = socket;
    for (const event of SERVER_EVENTS) {
      this.socket.on(event, (payload) => {
        // Note when a state arrived, so countdowns can use the server's clock (server_time).
        const timed = event === "room.state" || event === "recording.state";
        if (timed && payload) payload.received_at = Date.now() / 1000;
        this._dispatch(event, payload);
      });
    }
    this.socket.on("server.restarting", (payload) => { this._restartNotice = payload || {}; });
    this.socket.on("cluster.nodes", (payload) => this.nodes.update(payload));
    // The room's node drains: the room moves to another node; join it there.
    this.socket.on("room.moving", (payload) => {
      if (payload && payload.url && !this._closed) this._moveTo(payload.url).catch(() => {});
    });
    this.socket.on("connect", () => this._onConnect());
    this.socket.on("disconnect", (reason) => this._onDisconnect(reason));
    this.socket.on("connect_error", (err) => {
      const data = err && err.data ? err.data : {};
      this._dispatch("connect_error",
        new ProtocolError(data.code || "connect_error", data.detail || String(err && err.message)));
      this._failures += 1;
      if (!data.code && this._failures >= NODE_DEAD_AFTER_FAILURES && this.joinPayload
          && !this._closed && (this.nodes.several || this.base !== this.nodes.entry)) {
        this._moveTo(this.nodes.next()).catch(() => {}); // the node is gone: try another
      }
    });
  }

  /**
   * Talk to the node at `base` from now on (a cluster's node, docs/signalling.md): the old
   * socket is closed and a new one connected; a client that had joined joins again there
   * (and gets "joined", as after any reconnection). Resolves once connected.
   */
  _moveTo(base) {
    const old = this.socket;
    old.off();
    old.disconnect();
    this.base = base;
    this._failures = 0;
    this._attach(openSocket(base));
    if (this.joinPayload) this._dispatch("disconnect", "moved");
    return this.connect();
  }

  get connected() {
    return this.socket.connected;
  }

  /** Subscribe to a server or lifecycle event; returns a function that unsubscribes. */
  on(event, handler) {
    if (!SERVER_EVENTS.includes(event) && !LIFECYCLE_EVENTS.includes(event)) {
      throw new Error(`unknown event ${event}`);
    }
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(handler);
    return () => this._listeners.get(event).delete(handler);
  }

  _dispatch(event, payload) {
    for (const handler of this._listeners.get(event) || []) {
      try {
        handler(payload);
      } catch (err) {
        console.error(`handler for ${event} failed`, err);
      }
    }
  }

  /** Open the connection. Resolves once connected; rejects with the server's refusal. */
  connect() {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = [
        this.on("connect", () => { off.forEach((f) => f()); resolve(); }),
        this.on("connect_error", (err) => { off.forEach((f) => f()); reject(err); }),
      ];
      this.socket.connect();
    });
  }

  _onDisconnect(reason) {
    // A server that announced its restart is coming back: reconnect even where socket.io
    // would not (it retries "transport close" by itself, not "io server disconnect").
    const notice = this._restartNotice;
    if (notice && reason === "io server disconnect" && !this._closed && !this._retry) {
      const delay = Math.max(0, Number(notice.retry_after_ms) || 1000);
      this._retry = setTimeout(() => { this._retry = null; this.socket.connect(); }, delay);
    }
    this._dispatch("disconnect", reason);
  }

  _onConnect() {
    this._failures = 0;
    this._restartNotice = null;
    this._connectTimeout(CONNECT_TIMEOUT_MS);
    const again = this._connectedOnce;
    this._connectedOnce = true;
    this._dispatch("connect");
    if (again && this.joinPayload) {
      this.request("join", this.joinPayload)
        .then((answer) => this._joinedAgain(answer))
        .catch((err) => this._rejoinRefused(err));
    }
  }

  _joinedAgain(answer) {
    this.joined = answer;
    this.nodes.joined(answer);
    this._dispatch("joined", answer);
  }

  _rejoinRefused(err) {
    const url = err.answer && err.answer.url;
    if (err.code === "room_elsewhere" && !this._closed) {
      // The room is on another node (it moved, or reopened there after a node died), or is
      // between nodes for a moment (no URL): go there, or ask again shortly.
      if (url) this._moveTo(url).catch(() => {});
      else setTimeout(() => { if (!this._closed) this._moveTo(this.nodes.next()).catch(() => {}); },
        ROOM_BETWEEN_NODES_MS);
      return;
    }
    this._dispatch("connect_error", err);
  }

  /**
   * The network looks down (the page's media stalled). A TCP connection that lived through an
   * outage may wait many seconds after it for its next retransmission, so the signalling would
   * come back long after the network: if the server does not answer a `ping` within
   * REVIVE_TIMEOUT_MS, this socket is dropped and a new one connected (and re-joined, as after
   * any reconnection; socket.io retries until the network is back). One check at a time;
   * resolves with true when the socket was replaced.
   */
  async revive() {
    if (this._closed || this._reviving || !this.socket.connected) return false;
    this._reviving = true;
    try {
      await this.ping(REVIVE_TIMEOUT_MS);
      return false;
    } catch (err) {
      if (err.code !== "timeout" || this._closed || !this.socket.connected) return false;
      this.socket.disconnect();
      this._connectTimeout(OUTAGE_CONNECT_TIMEOUT_MS);
      this.socket.connect();
      return true;
    } finally {
      this._reviving = false;
    }
  }

  _connectTimeout(ms) {
    const manager = this.socket.io; // absent from the test doubles of a socket
    if (manager && typeof manager.timeout === "function") manager.timeout(ms);
  }

  /** `ping` {} → {ok}: the server is there and answering on this socket. */
  async ping(timeoutMs = this.timeoutMs) {
    return this.request("ping", {}, timeoutMs);
  }

  /** Send one event with an acknowledgement; resolves with `{ok: true, ...}` or throws. */
  async request(event, payload = {}, timeoutMs = this.timeoutMs) {
    if (!this.socket.connected) {
      // socket.io would buffer the event and flush it on reconnection before our re-join,
      // where the server would answer not_joined: fail now and let the caller retry.
      throw new ProtocolError("disconnected", "not connected to the server", event);
    }
    let answer;
    try {
      answer = await this.socket.timeout(timeoutMs).emitWithAck(event, payload);
    } catch (err) {
      throw new ProtocolError("timeout", `no answer within ${timeoutMs} ms`, event);
    }
    if (!answer || answer.ok !== true) {
      const error = new ProtocolError((answer && answer.code) || "invalid_answer",
        (answer && answer.detail) || "the server's answer is not {ok: ...}", event);
      error.answer = answer || null; // fields some refusals add (room_not_open: opens_at)
      throw error;
    }
    return answer;
  }

  // --- joining -------------------------------------------------------------------------------

  /**
   * `join` {conference_id: int, as: "site" | "console" | "interpreter", site_id: int | null,
   *         language?: str (an interpreter's booth)}
   * → {ok, as, site_id, admission: "lobby" | "admitted", can_chair, ice_servers, room: RoomState,
   *    listening: {language, floor_level}}
   */
  async join(payload) {
    let answer;
    try {
      answer = await this.request("join", payload);
    } catch (err) {
      const url = err.answer && err.answer.url;
      if (err.code !== "room_elsewhere" || !url) throw err;
      // In a cluster the room is on another node: signalling and media go there.
      await this._moveTo(url);
      answer = await this.request("join", payload);
    }
    this.joinPayload = payload;
    this._joinedAgain(answer);
    return answer;
  }

  /** `leave` {} → {ok}. The client stops re-joining after a reconnection. */
  async leave() {
    this.joinPayload = null;
    return this.request("leave", {});
  }

  // --- media ---------------------------------------------------------------------------------

  /**
   * `offer` {sdp: str, layout: {mid: name}} → {ok, sdp} (the answer). Only once admitted;
   * a new offer replaces the previous peer connection.
   */
  async offer(sdp, layout) {
    return this.request("offer", { sdp, layout }, OFFER_TIMEOUT_MS);
  }

  // --- floor, chat ---------------------------------------------------------------------------

  /** `floor.request` {} → {ok, position: int} (a site). */
  async requestFloor() {
    return this.request("floor.request", {});
  }

  /** `floor.withdraw` {} → {ok} (a site). */
  async withdrawFloor() {
    return this.request("floor.withdraw", {});
  }

  /** `chat` {text: str} (1–1000 characters) → {ok} (anyone joined; at most 2 per second). */
  async chat(text) {
    return this.request("chat", { text });
  }

  // --- chair actions (organisers and technicians) --------------------------------------------

  /** `admit` {site_id: int} → {ok} */
  async admit(siteId) {
    return this.request("admit", { site_id: siteId });
  }

  /** `refuse` {site_id: int} → {ok} */
  async refuse(siteId) {
    return this.request("refuse", { site_id: siteId });
  }

  /** `remove` {site_id: int} → {ok} */
  async remove(siteId) {
    return this.request("remove", { site_id: siteId });
  }

  /** `rejoin` {site_id: int} → {ok}: the site is told to offer again. */
  async askRejoin(siteId) {
    return this.request("rejoin", { site_id: siteId });
  }

  /** `mute` {site_id: int, muted: bool} → {ok} */
  async mute(siteId, muted) {
    return this.request("mute", { site_id: siteId, muted: Boolean(muted) });
  }

  /** `lock` {locked: bool} → {ok} */
  async lock(locked) {
    return this.request("lock", { locked: Boolean(locked) });
  }

  /** `floor.grant` {site_id: int, limit_seconds: int | null} (10–3600) → {ok} */
  async grantFloor(siteId, limitSeconds = null) {
    return this.request("floor.grant", { site_id: siteId, limit_seconds: limitSeconds });
  }

  /** `floor.release` {} → {ok}: ends the current turn. */
  async releaseFloor() {
    return this.request("floor.release", {});
  }

  /** `present` {site_id: int | null} → {ok}: shows a site's screen, or stops with null. */
  async present(siteId) {
    return this.request("present", { site_id: siteId });
  }

  // --- recording (the chair) ----------------------------------------------------------------

  /** `recording.start` {} → {ok, id}; already_recording, room_not_open. Everyone joined then
   * receives `recording.state` {recording, since, id, server_time}. */
  async startRecording() {
    return this.request("recording.start", {});
  }

  /** `recording.stop` {} → {ok, id}; not_recording. */
  async stopRecording() {
    return this.request("recording.stop", {});
  }

  // --- signing (docs/signalling.md, "Signing") ----------------------------------------------

  /** `signing.open` {agreement_id} → {ok, state} (the chair, an organiser): everyone joined
   * then receives `signing.state`. Refused: forbidden, room_not_live, no_versions,
   * party_without_signatory, signing_already_open, agreement_not_found. */
  async openSigning(agreementId) {
    return this.request("signing.open", { agreement_id: agreementId });
  }

  /** `signing.status` {} → {ok, agreements: [SigningState]}: every opened or signed agreement
   * of the conference (a page that joins late catches up). Signing itself is an HTTP POST. */
  async signingStatus() {
    return this.request("signing.status", {});
  }

  // --- interpretation -------------------------------------------------------------------------

  /**
   * `language` {language: str | null, floor_level?: int 0–100} → {ok, hears: "booth" | "floor"}
   * (a site or console): what its interpretation.audio slot carries; remembered for the user.
   */
  async chooseLanguage(language, floorLevel = undefined) {
    const payload = { language };
    if (floorLevel !== undefined) payload.floor_level = Math.round(floorLevel);
    return this.request("language", payload);
  }

  /** `booth.on_air` {} → {ok} (an interpreter). */
  async goOnAir() {
    return this.request("booth.on_air", {});
  }

  /** `booth.off_air` {} → {ok} (an interpreter). */
  async goOffAir() {
    return this.request("booth.off_air", {});
  }

  /** `booth.handover_request` {} → {ok} (the partner who is not on air). */
  async requestHandover() {
    return this.request("booth.handover_request", {});
  }

  /** `booth.handover_accept` {} → {ok} (the interpreter on air). */
  async acceptHandover() {
    return this.request("booth.handover_accept", {});
  }

  /** `booth.source` {source: "auto" | "floor" | language} → {ok, hears} (an interpreter). */
  async chooseBoothSource(source) {
    return this.request("booth.source", { source });
  }

  /** `booth.chat` {text} → {ok}: to the partners in the same booth only. */
  async boothChat(text) {
    return this.request("booth.chat", { text });
  }

  /** `floor.language` {language: str | null} → {ok} (the chair or technician). */
  async setFloorLanguage(language) {
    return this.request("floor.language", { language });
  }

  /** `booths.status` {} → {ok, booths: [BoothStatus]} (the chair or technician). */
  async boothsStatus() {
    return this.request("booths.status", {});
  }

  /** `health.watch` {} → {ok, rows, alerts, history} (the chair or technician); then
   * `health.report` every 2 s and `health.change` for acknowledgements. */
  async watchHealth() {
    return this.request("health.watch", {});
  }

  /** `health.report` {BrowserStats} → {ok}: this page's own getStats() summary. */
  async reportHealth(summary) {
    return this.request("health.report", summary);
  }

  /** `health.ack` {alert_id} → {ok, alert} (the chair or technician). */
  async acknowledgeAlert(alertId) {
    return this.request("health.ack", { alert_id: alertId });
  }

  /** `health.keyframe` {site_id} → {ok, asked}: ask a site's camera for a key frame. */
  async requestKeyframe(siteId) {
    return this.request("health.keyframe", { site_id: siteId });
  }

  // --- site checks (no join: the connection checks one site) ---------------------------------

  /**
   * `check.start` {conference_id: int, site_id: int | null} → {ok, site_id, site_name,
   * duration, ice_servers, last: Check | null} (a guest: its invitation's site; an organiser
   * or technician: `siteId` required). Refused with forbidden, bad_site or invalid.
   */
  async startCheck(conferenceId, siteId = null) {
    return this.request("check.start", { conference_id: conferenceId, site_id: siteId });
  }

  /**
   * `check.offer` {sdp: str, layout: {mid: "camera" | "microphone" | "echo.video" |
   * "echo.audio"}} → {ok, sdp} (the answer); not_checking, bad_offer.
   */
  async checkOffer(sdp, layout) {
    return this.request("check.offer", { sdp, layout }, OFFER_TIMEOUT_MS);
  }

  /**
   * `check.finish` {devices: {camera|microphone|speaker: "ok"|"failed"|"skipped"},
   * browser: {rtt, loss, bitrate_up, bitrate_down, candidate_type}, user_agent} →
   * {ok, check: Check} (the stored result).
   */
  async finishCheck(result) {
    return this.request("check.finish", result, OFFER_TIMEOUT_MS);
  }

  /** Close the socket (no more automatic re-joins). */
  close() {
    this._closed = true;
    this.joinPayload = null;
    if (this._retry) clearTimeout(this._retry);
    this._retry = null;
    this.socket.disconnect();
  }
}
