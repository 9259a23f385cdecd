// The site page: device check → lobby → bridge room (server/templates/room_site.html).
//
// The page never joins by itself: the delegation presses "Join" after checking its camera and
// microphone (the click is also the user gesture browsers want before playing sound). Automated
// tests open the page with ?autojoin=1 to skip the click.

import { RoomClient } from "./protocol.js";
import { RecordingIndicator } from "./recording_indicator.js";
import { SigningPanel } from "./signing.js";
import { HealthReporter } from "./health_report.js";
import { holdVideo, videoWaitMs } from "./long_link.js";
import { MediaLink, SITE_SLOTS, siteSends } from "./media.js";
import { ListenerPanel } from "./listener_panel.js";
import {
  $, attachTrack, config, errorText, sameId, setupChat,
  revokedText, setupSoundButton, showConnection, showFloorTimer, siteName, t,
} from "./ui.js";

const root = $("room-site");
const client = new RoomClient();
new RecordingIndicator(client, document.getElementById("rec-indicator"));
new SigningPanel(client, { siteId: config.site ? config.site.id : null });
// This page's own connection figures for the technicians, every 2 s (health_report.js).
const health = new HealthReporter({
  client,
  peer: () => (link ? link.pc : null),
  reconnections: () => (link ? link.reconnections : 0),
  // On a long round trip, video waits for lost packets' copies instead of freezing.
  onSummary: (pc, summary) => holdVideo(pc, videoWaitMs(summary.candidate_rtt)),
});
navigator.mediaDevices?.addEventListener("devicechange", () => health.markDevicesChanged());
const elements = {
  "hall.video": $("hall-video"),
  "hall.audio": $("hall-audio"),
  "floor.video": $("floor-video"),
  "floor.audio": $("floor-audio"),
  "presentation.video": $("presentation-video"),
  "interpretation.audio": $("interpretation-audio"),
  "sign.video": $("sign-video"),
};
const VIEWS = ["check", "lobby", "room", "ended"];

let local = null; // the camera + microphone MediaStream (null when unavailable)
let screenTrack = null;
let link = null;
let state = null; // the last RoomState
let mySiteId = config.join ? config.join.site_id : null;
let admission = null;
let iceServers = config.ice_servers || [];
const listener = new ListenerPanel({ client, elements });

// For tests and for the curious: the live objects behind the page.
window.concord = {
  client,
  elements,
  preview: $("self-view"),
  get pc() { return link ? link.pc : null; },
  get link() { return link; },
  get state() { return state; },
  get admission() { return admission; },
  get view() { return root.dataset.view; },
  listener,
};

// Where the focus goes when a view replaces the one it was in (the Join button disappears with
// the device check, the lobby with the admission): its heading, or the room's main control.
const FOCUS = { check: "check-title", lobby: "lobby-title", ended: "ended-title", room: "floor-button" };

function show(view) {
  const before = root.dataset.view;
  const focusWasIn = before && $(`view-${before}`).contains(document.activeElement);
  root.dataset.view = view;
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  keepPlaceOnLanguageChange(view === "lobby" || view === "room");
  if (before !== view && focusWasIn) {
    const target = $(FOCUS[view]);
    if (target.tagName.startsWith("H")) target.tabIndex = -1;
    target.focus();
  }
}

/** Changing the interface language reloads the page (its words come from the server): once
 *  the site has joined, the top bar's language form comes back with ?autojoin=1, so the site
 *  rejoins at once instead of starting again at the device check. */
function keepPlaceOnLanguageChange(joined) {
  const next = document.querySelector("form[action='/language'] input[name=next]");
  if (!next) return;
  const url = new URL(next.value, window.location.origin);
  if (joined) url.searchParams.set("autojoin", "1");
  else url.searchParams.delete("autojoin");
  next.value = url.pathname + url.search;
}

// --- device check ------------------------------------------------------------------------------

async function checkDevices() {
  try {
    local = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
      audio: true,
    });
    $("check-preview").srcObject = local;
    $("self-view").srcObject = local;
    startMeter(local);
    $("device-status").textContent = t("Camera and microphone are working.");
  } catch (err) {
    local = null;
    $("device-status").textContent = t(
      "Camera or microphone unavailable (%(error)s). You can still join to watch and listen.",
      { error: err && err.name ? err.name : String(err) });
  }
  updateToggles();
}

let audioContext = null;

/** The microphone level, from the waveform's RMS, on #mic-level and #room-mic-level. */
function startMeter(stream) {
  if (!stream.getAudioTracks().length || !window.AudioContext) return;
  audioContext = new AudioContext();
  const analyser = audioContext.createAnalyser();
  analyser.fftSize = 1024;
  audioContext.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const meters = [$("mic-level"), $("room-mic-level")];
  const tick = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    const level = Math.min(1, Math.sqrt(sum / samples.length) * 4); // speech RMS is ~0.05–0.25
    for (const meter of meters) meter.value = level;
    requestAnimationFrame(tick);
  };
  tick();
}

function localTrack(kind) {
  return local ? local.getTracks().find((track) => track.kind === kind) : null;
}

function toggleTrack(kind) {
  const track = localTrack(kind);
  if (!track) return;
  track.enabled = !track.enabled; // a disabled track sends silence / black: no renegotiation
  updateToggles();
}

function updateToggles() {
  const mic = localTrack("audio");
  const camera = localTrack("video");
  const micButton = $("mic-toggle");
  micButton.disabled = !mic;
  micButton.dataset.on = String(Boolean(mic && mic.enabled));
  micButton.textContent = mic && mic.enabled ? t("Mute microphone") : t("Unmute microphone");
  const cameraButton = $("camera-toggle");
  cameraButton.disabled = !camera;
  cameraButton.dataset.on = String(Boolean(camera && camera.enabled));
  cameraButton.textContent = camera && camera.enabled ? t("Turn camera off") : t("Turn camera on");
  const screenButton = $("screen-toggle");
  screenButton.hidden = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  screenButton.dataset.on = String(Boolean(screenTrack));
  screenButton.textContent = screenTrack ? t("Stop sharing the screen") : t("Share the screen");
}

// --- joining, lobby, admission -----------------------------------------------------------------

async function join() {
  $("join-button").disabled = true;
  if (audioContext) audioContext.resume().catch(() => {});
  listener.resume();
  $("lobby-status").textContent = t("Connecting…");
  show("lobby");
  showConnection("connecting");
  try {
    await client.connect();
    await client.join(config.join); // the answer is handled by the "joined" listener
  } catch (err) {
    showConnection("offline");
    end("error", t("Could not join: %(reason)s", { reason: errorText(err) }));
  }
}

function onJoined(answer) {
  if (answer.site_id !== null && answer.site_id !== undefined) mySiteId = answer.site_id;
  if (answer.ice_servers) iceServers = answer.ice_servers;
  admission = answer.admission;
  listener.onJoined(answer);
  onState(answer.room);
  if (admission === "admitted") {
    enterRoom(answer);
  } else {
    $("lobby-status").textContent = t("Waiting for the chair to admit this site…");
    show("lobby");
  }
}

/** Admitted: by a join `answer` (also each re-join after a reconnection) or by the chair. */
function enterRoom(answer = null) {
  admission = "admitted";
  show("room");
  listener.onAdmitted();
  if (link) {
    link.iceServers = iceServers; // the re-join's, with fresh TURN credentials, for a new one
    // A re-join keeps the media connection while the server still holds it (a short outage);
    // after a server restart, or once the server closed its end, the page offers again.
    link.rejoined(Boolean(answer && serverHoldsMedia(answer.room)));
    return;
  }
  link = new MediaLink({
    client,
    iceServers,
    send: siteSends(localTrack("video"), localTrack("audio")),
    receive: SITE_SLOTS,
    patient: true, // the server keeps a site's connection through outages (media.js)
    onTrack: (slot, track) => {
      if (!elements[slot]) return;
      attachTrack(elements[slot], track);
      listener.onTrack(slot);
    },
    onState: (linkState, detail) => {
      if (linkState === "failed") $("room-error").textContent = errorText(detail);
      // The media stalled: most likely the network. Make sure the signalling comes back with
      // it (a socket that lived through an outage can lag long after it).
      const stalled = detail === "disconnected" || detail === "failed";
      if (linkState === "reconnecting" && stalled) client.revive();
      updateConnection();
    },
  });
  link.start();
  health.start();
}

/** The page's end: refused, removed, left or an error. */
function end(reason, message) {
  health.stop();
  if (link) link.close();
  link = null;
  listener.admitted = false;
  if (reason !== "error") admission = reason;
  root.dataset.reason = reason;
  $("ended-message").textContent = message;
  $("join-again").hidden = reason === "revoked"; // the link would only be refused
  show("ended");
  updateConnection();
}

async function leave() {
  try {
    await client.leave();
  } catch (err) {
    console.warn("leave", err);
  }
  if (screenTrack) screenTrack.stop();
  if (local) local.getTracks().forEach((track) => track.stop());
  client.close();
  end("left", t("You have left the room."));
}

const forMe = (payload) => mySiteId === null || !payload || sameId(payload.site_id, mySiteId);

/** The room state says the server holds this site's connected media connection. */
function serverHoldsMedia(room) {
  const mine = ((room && room.sites) || []).find((s) => sameId(s.site_id, mySiteId));
  return Boolean(mine && mine.link === "connected");
}

client.on("joined", onJoined);
client.on("admitted", (p) => { if (forMe(p)) enterRoom(); });
client.on("refused", (p) => { if (forMe(p)) end("refused", t("The chair did not admit this site.")); });
client.on("removed", (p) => { if (forMe(p)) end("removed", t("The chair removed this site from the room.")); });
client.on("rejoin", (p) => { if (forMe(p) && link) link.restart("rejoin"); });
client.on("media.sending", (p) => { if (link && p && Array.isArray(p.paused)) link.pause(p.paused); });
client.on("revoked", (p) => end("revoked", revokedText(p && p.code)));
client.on("room.state", (room) => onState(room));
client.on("room.event", (event) => {
  if (event && event.type === "site.reconnecting" && link && mySiteId !== null
    && sameId(event.site_id, mySiteId)) {
    link.serverClosed(); // the server's end of our connection is gone (its consent expired)
  }
  if (event && event.type === "room.ended") {
    client.close(); // the conference is over: no reconnection into a room that is gone
    end("ended", t("The conference has ended and its room is closed."));
  }
});
client.on("disconnect", () => updateConnection());
client.on("connect", () => updateConnection());

// --- the room ------------------------------------------------------------------------------------

function me() {
  return state ? (state.sites || []).find((s) => sameId(s.site_id, mySiteId)) : null;
}

function onState(room) {
  if (!room) return;
  state = room;
  listener.onState(room);
  const mine = me();
  $("chair-muted").hidden = !(mine && mine.muted);
  const hall = (room.sites || []).find((s) => s.main_hall);
  $("hall-name").textContent = hall ? hall.name : t("Main hall");

  const floor = room.floor || {};
  const holder = floor.holder;
  const hasHolder = holder !== null && holder !== undefined;
  $("floor-tile").classList.toggle("empty", !hasHolder);
  // Nobody is sent their own picture: the holder sees itself in its own preview instead.
  $("floor-tile").hidden = sameId(holder, mySiteId);
  $("floor-name").textContent = hasHolder ? siteName(room, holder) : t("Nobody has the floor");
  const status = !hasHolder ? t("Nobody has the floor")
    : sameId(holder, mySiteId) ? t("You have the floor")
      : t("%(site)s has the floor", { site: siteName(room, holder) });
  if ($("floor-status").textContent !== status) $("floor-status").textContent = status;

  const position = (floor.queue || []).findIndex((id) => sameId(id, mySiteId)) + 1;
  const button = $("floor-button");
  button.disabled = sameId(holder, mySiteId);
  button.dataset.queued = String(position > 0);
  button.textContent = sameId(holder, mySiteId) ? t("You have the floor")
    : position ? t("Withdraw request") : t("Request the floor");
  const positionText = position ? t("Position %(position)s in the queue", { position }) : "";
  if ($("floor-position").textContent !== positionText) $("floor-position").textContent = positionText;

  const presenting = room.presenter !== null && room.presenter !== undefined;
  $("presentation-tile").hidden = !presenting || sameId(room.presenter, mySiteId);
  $("presentation-name").textContent = presenting ? siteName(room, room.presenter) : "";
  updateTimer();
  updateConnection();
}

function updateTimer() {
  showFloorTimer($("floor-timer"), state);
}

/** #connection from the peer connection's state and the room's view of this site's link. */
function updateConnection() {
  if (!client.connected) {
    const active = admission === "lobby" || admission === "admitted";
    showConnection(active ? "reconnecting" : "offline");
    return;
  }
  if (!link) {
    showConnection(admission ? "connected" : "connecting");
    return;
  }
  const mine = me();
  if (link.state === "connected" && (!mine || mine.link === "connected")) showConnection("connected");
  else if (link.state === "reconnecting" || (mine && mine.link === "reconnecting")) showConnection("reconnecting");
  else showConnection("connecting");
}

async function toggleFloor() {
  if (!state || root.dataset.view !== "room" || $("floor-button").disabled) return;
  const queued = $("floor-button").dataset.queued === "true";
  $("floor-error").textContent = "";
  try {
    if (queued) {
      await client.withdrawFloor();
    } else {
      const answer = await client.requestFloor();
      $("floor-position").textContent = t("Position %(position)s in the queue", { position: answer.position });
    }
  } catch (err) {
    $("floor-error").textContent = errorText(err);
  }
}

async function toggleScreen() {
  if (!link) return;
  try {
    if (screenTrack) {
      screenTrack.stop();
      screenTrack = null;
    } else {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
      screenTrack = stream.getVideoTracks()[0];
      // The browser's own "Stop sharing" bar ends the track.
      screenTrack.addEventListener("ended", () => { if (screenTrack) toggleScreen(); });
    }
    updateToggles();
    await link.setScreen(screenTrack);
  } catch (err) {
    $("room-error").textContent = errorText(err);
  }
}

// --- wiring ----------------------------------------------------------------------------------------

$("join-button").addEventListener("click", join);
$("mic-toggle").addEventListener("click", () => toggleTrack("audio"));
$("camera-toggle").addEventListener("click", () => toggleTrack("video"));
$("screen-toggle").addEventListener("click", toggleScreen);
$("floor-button").addEventListener("click", toggleFloor);
$("leave-button").addEventListener("click", leave);
setupSoundButton();
$("enable-sound").addEventListener("click", () => listener.resume());
setupChat(client);
setInterval(updateTimer, 500);

// M: microphone, V: camera, F: request / withdraw the floor, L: the language (not while typing
// in a field).
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
  const view = root.dataset.view;
  if (view !== "room" && view !== "check") return;
  const key = event.key.toLowerCase();
  if (key === "m") toggleTrack("audio");
  else if (key === "v") toggleTrack("video");
  else if (key === "f" && view === "room") toggleFloor();
  else if (key === "l" && view === "room") listener.focus();
  else return;
  event.preventDefault();
});

show("check");
showConnection("offline");
checkDevices().then(() => {
  $("join-button").disabled = false;
  if (new URLSearchParams(window.location.search).get("autojoin") === "1") join();
});
