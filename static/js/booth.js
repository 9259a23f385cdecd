// The interpreter console (server/templates/room_booth.html): on air, handover, cough and mute,
// what the interpreter hears, the partners and their chat, the time on air.
//
// The page joins /room as the booth's interpreter as soon as it opens (interpreters open it to
// work; joining marks them present) and offers its microphone. Everything it shows about the
// booth comes from RoomState: a button press only asks the server, and the page changes when the
// next room.state says so.

import { RoomClient } from "./protocol.js";
import { RecordingIndicator } from "./recording_indicator.js";
import { HealthReporter } from "./health_report.js";
import { MediaLink, interpreterSlots } from "./media.js";
import { $, attachTrack, config, errorText, languageName, revokedText, setupSoundButton, showConnection,
  siteName, t } from "./ui.js";
import { AirClock, airState, clock, clockSkewMs, findBooth, heardSource, interpreterName,
  relayMissing, sameInterpreter } from "./booth_state.js";
import { setupBoothChat, showPeople, nameLanguages } from "./booth_panels.js";
import { bindShortcuts, holdButton } from "./shortcuts.js";
import { BoothDevices } from "./booth_devices.js";

const root = $("room-booth");
const client = new RoomClient();
new RecordingIndicator(client, document.getElementById("rec-indicator"));
const health = new HealthReporter({
  client,
  peer: () => (link ? link.pc : null),
  reconnections: () => (link ? link.reconnections : 0),
}); // every 2 s
const language = config.language;
const me = config.me;
const elements = {
  "source.audio": $("source-audio"),
  "hall.video": $("hall-video"),
  "floor.video": $("floor-video"),
};
const storageKey = `concord.booth.${config.conference.id}.${language}`;
const storage = (() => {
  try {
    return window.localStorage;
  } catch (err) {
    return null;
  }
})();
const airClock = new AirClock({ storage, key: `${storageKey}.${me}.air` });

const devices = new BoothDevices({
  onLevel: (level) => { $("mic-level").value = level; },
  onChange: () => showMicrophone(),
});
let link = null;
let state = null; // the last RoomState
let booth = null; // this booth in it
let air = "off"; // airState(booth, me)
let view = "connecting";
let iceServers = config.ice_servers || [];
let chosenSource = loadSetting("source", "auto");
/** The source the interpreter just picked, until the server has answered. */
let pendingSource = null;
let turnStartedAt = null; // ms (browser clock), from the room event that put me on air
let busy = false; // a booth request is on its way
let starting = false; // the media link is being set up (a sign booth waits for its camera)
let onAirWhenCut = false; // on air when the connection dropped (the server takes us off air)

window.concord = {
  client,
  elements,
  clock: airClock,
  get pc() { return link ? link.pc : null; },
  get link() { return link; },
  get state() { return state; },
  get booth() { return booth; },
  get air() { return air; },
  get view() { return view; },
  get microphone() { return devices.microphone; },
  get coughing() { return devices.coughing; },
  get muted() { return devices.muted; },
  me,
};

function loadSetting(name, fallback) {
  try {
    const value = storage && storage.getItem(`${storageKey}.${name}`);
    return value === null || value === undefined ? fallback : value;
  } catch (err) {
    return fallback;
  }
}

function saveSetting(name, value) {
  try {
    if (storage) storage.setItem(`${storageKey}.${name}`, String(value));
  } catch (err) {
    // Not remembered, still applied.
  }
}

function show(name) {
  view = name;
  root.dataset.view = name;
  $("view-booth").hidden = name === "ended";
  $("view-ended").hidden = name !== "ended";
}

// --- microphone: cough key and mute --------------------------------------------------------------

function resumeAudio() {
  devices.resume();
}

function showMicrophone() {
  const mic = devices.microphone;
  const { coughing, muted } = devices;
  const coughButton = $("cough-button");
  coughButton.setAttribute("aria-pressed", String(coughing));
  coughButton.disabled = !mic;
  const muteButton = $("mute-button");
  muteButton.setAttribute("aria-pressed", String(muted));
  muteButton.disabled = !mic;
  $("mute-label").textContent = muted ? t("Unmute") : t("Mute");
  const onAir = air === "on" || air === "asked";
  let status = "off";
  let text = t("Microphone ready (off air)");
  if (!mic) [status, text] = ["none", t("No microphone")];
  else if (coughing) [status, text] = ["cough", t("Muted (cough)")];
  else if (muted) [status, text] = ["muted", t("Muted")];
  else if (onAir) [status, text] = ["live", t("Live: listeners hear you")];
  const panel = $("mic-panel");
  panel.dataset.mic = status;
  if ($("mic-status").textContent !== text) $("mic-status").textContent = text;
}

// --- joining and media ---------------------------------------------------------------------------

async function start() {
  show("connecting");
  showConnection("connecting");
  await devices.openMicrophone();
  if (devices.error) {
    $("mic-error").textContent = t("No microphone (%(error)s): you can listen but not go on air.",
      { error: devices.error });
  }
  try {
    await client.connect();
    await client.join(config.join); // answered through the "joined" listener
  } catch (err) {
    showConnection("offline");
    end(t("Could not join: %(reason)s", { reason: boothErrorText(err) }));
  }
}

async function onJoined(answer) {
  if (answer.ice_servers) iceServers = answer.ice_servers;
  show("booth");
  onState(answer.room);
  if (onAirWhenCut && air !== "on" && air !== "asked") {
    $("air-error").textContent = t("The connection dropped and you were taken off air.");
  }
  onAirWhenCut = false;
  if (chosenSource !== "auto") chooseSource(chosenSource, { quiet: true });
  if (link) {
    link.iceServers = iceServers; // the re-join's, with fresh TURN credentials
    link.restart("rejoined"); // a new socket.io session: the server wants a new offer
    return;
  }
  if (starting) return;
  starting = true;
  const slots = interpreterSlots({ video: Boolean(booth && booth.video) });
  if (booth && booth.video) {
    const camera = await devices.openCamera();
    if (camera) $("self-view").srcObject = new MediaStream([camera]);
    else $("mic-error").textContent = t("No camera (%(error)s): signers cannot see you.",
      { error: devices.cameraError });
  }
  $("self-tile").hidden = !devices.track("video");
  link = new MediaLink({
    client,
    iceServers,
    send: slots.publish.map((s) => ({ ...s, track: devices.track(s.kind) })),
    receive: slots.receive,
    onTrack: (slot, track) => { if (elements[slot]) attachTrack(elements[slot], track); },
    onState: (linkState, detail) => {
      if (linkState === "failed") $("air-error").textContent = boothErrorText(detail);
      updateConnection();
    },
  });
  starting = false;
  link.start();
  health.start();
}

function end(message) {
  health.stop();
  if (link) link.close();
  link = null;
  $("ended-message").textContent = message;
  show("ended");
  updateConnection();
}

async function leave() {
  try {
    if (air === "on" || air === "asked") await client.goOffAir();
    await client.leave();
  } catch (err) {
    console.warn("leave", err);
  }
  devices.stop();
  client.close();
  end(t("You have left the booth."));
}

function updateConnection() {
  if (!client.connected) {
    showConnection(view === "ended" ? "offline" : "reconnecting");
  } else if (link && link.state === "connected") {
    showConnection("connected");
  } else if (link && link.state === "reconnecting") {
    showConnection("reconnecting");
  } else {
    showConnection("connecting");
  }
  showAir();
}

// --- the booth from RoomState --------------------------------------------------------------------

function onState(room) {
  if (!room) return;
  state = room;
  booth = findBooth(room, language);
  air = airState(booth, me);
  const onAir = air === "on" || air === "asked";
  airClock.update(onAir, onAir ? turnStartedAt : null);
  if (!onAir) turnStartedAt = null;
  showAir();
  showMicrophone();
  showHearing();
  showStage();
  showPeople(booth, me, config.partners);
  showClocks();
}

/** Room events tell when my turn began, on the server's clock. */
function onRoomEvent(event) {
  if (event && event.type === "room.ended") {
    client.close();
    end(t("The conference has ended and its room is closed."));
    return;
  }
  const data = (event && event.data) || {};
  const mine = (event.type === "booth.on_air" && sameInterpreter(data.interpreter, me))
    || (event.type === "booth.handover" && sameInterpreter(data.to, me));
  if (!mine || data.language !== language) return;
  const at = Date.parse(event.at);
  if (!Number.isNaN(at)) turnStartedAt = at - clockSkewMs(state);
}

function partnerName() {
  if (!booth) return "";
  const other = air === "asked" ? booth.handover_to : booth.on_air;
  return interpreterName(booth, other);
}

function showAir() {
  const button = $("air-button");
  const usable = client.connected && view === "booth" && booth !== null;
  const shown = usable ? air : "unavailable";
  const name = partnerName();
  const texts = {
    unavailable: [t("Not connected"), t("Wait for the connection"), t("Not connected to the booth.")],
    off: [t("Go on air"), t("Nobody is on air"), t("Off air: listeners of this booth hear the floor.")],
    on: [t("On air"), t("Press to go off air"), t("You are on air.")],
    asked: [t("On air"), t("Press to go off air"),
      t("You are on air. %(name)s asks to take over.", { name })],
    partner: [t("Request handover"), t("%(name)s is on air", { name }),
      t("%(name)s is on air.", { name })],
    requested: [t("Handover requested"), t("Waiting for %(name)s: press to withdraw", { name }),
      t("You asked %(name)s to hand over.", { name })],
  }[shown];
  if (button.dataset.state !== shown) $("air-error").textContent = ""; // about a past state
  button.dataset.state = shown;
  $("air-label").textContent = texts[0];
  $("air-hint").textContent = texts[1];
  button.disabled = !usable || busy || (air === "off" && !devices.microphone);
  button.setAttribute("aria-pressed", String(air === "on" || air === "asked"));
  if ($("air-status").textContent !== texts[2]) $("air-status").textContent = texts[2];
  root.dataset.air = shown;

  const asked = usable && air === "asked";
  $("handover-offer").hidden = !asked;
  if (asked) {
    $("handover-text").textContent = t("%(name)s asks to take over.", { name });
    $("handover-accept-label").textContent = t("Hand over to %(name)s", { name });
  }
  $("handover-accept").disabled = busy;
  const switchedOut = Boolean(booth && booth.switched_out);
  $("switched-out").hidden = !switchedOut;
  if (switchedOut) {
    $("switched-out").textContent = t(
      "The floor is speaking %(language)s: your booth is switched out and its listeners hear the floor directly.",
      { language: languageName(language) });
  }
}

/** Ask the server; the page changes only when room.state says so. */
async function ask(request) {
  if (busy) return;
  busy = true;
  $("air-error").textContent = "";
  showAir();
  try {
    await request();
  } catch (err) {
    $("air-error").textContent = boothErrorText(err);
  } finally {
    busy = false;
    showAir();
  }
}

function pressAirButton() {
  if ($("air-button").disabled) return;
  resumeAudio();
  if (air === "off") ask(() => client.goOnAir());
  else if (air === "on" || air === "asked") ask(() => client.goOffAir());
  else if (air === "partner") ask(() => client.requestHandover());
  else if (air === "requested") ask(() => client.goOffAir()); // withdraws the request
}

function pressHandover() {
  resumeAudio();
  if (air === "asked") ask(() => client.acceptHandover());
  else if (air === "partner") ask(() => client.requestHandover());
}

const BOOTH_ERRORS = {
  partner_on_air: "Your partner is on air: ask for a handover.",
  nobody_on_air: "Nobody is on air: go on air directly.",
  already_on_air: "You are already on air.",
  not_on_air: "Only the interpreter on air can hand over.",
  no_request: "Your partner has not asked to take over.",
  not_in_booth: "You are not an interpreter of this booth.",
  no_booth: "There is no such booth.",
  own_booth: "A booth cannot relay from itself.",
};

function boothErrorText(err) {
  const known = err && BOOTH_ERRORS[err.code];
  return known ? t(known) : errorText(err);
}

// --- what the interpreter hears ------------------------------------------------------------------

function showHearing() {
  const interpretation = (state && state.interpretation) || {};
  const floor = interpretation.floor_language;
  $("floor-language").textContent = floor ? languageName(floor) : t("not set");
  const heard = heardSource(state, booth, chosenSource);
  const text = heard === "floor" ? t("the floor")
    : t("relay from the %(language)s booth (%(name)s)", {
      language: languageName(heard),
      name: interpreterName(findBooth(state, heard), (findBooth(state, heard) || {}).on_air),
    });
  if ($("heard-now").textContent !== text) $("heard-now").textContent = text;
  $("hearing").dataset.heard = heard === "floor" ? "floor" : "relay";
  $("relay-missing").hidden = !relayMissing(state, booth, heard);
  if (!$("relay-missing").hidden) {
    $("relay-missing").textContent = t(
      "The floor speaks %(language)s and no booth relays it now: you hear the floor.",
      { language: languageName(floor) });
  }
  $("listener-count").textContent = booth ? String(booth.listeners || 0) : "–";
  // While a choice is on its way to the server, the radio shows it: a state update arriving
  // before the answer must not flip the interpreter's click back.
  const shown = pendingSource ?? chosenSource;
  for (const input of document.querySelectorAll("input[name=source]")) {
    input.checked = input.value === shown;
  }
}

function addRelayChoices() {
  const list = $("source-choices");
  for (const other of config.other_booths || []) {
    const id = `source-${other}`;
    const item = document.createElement("li");
    const input = Object.assign(document.createElement("input"),
      { type: "radio", name: "source", id, value: other });
    const label = Object.assign(document.createElement("label"), { htmlFor: id,
      textContent: t("Relay from the %(language)s booth", { language: languageName(other) }) });
    item.append(input, " ", label);
    list.append(item);
  }
  list.addEventListener("change", (event) => {
    if (event.target.name === "source") chooseSource(event.target.value);
  });
}

async function chooseSource(source, { quiet = false } = {}) {
  $("source-error").textContent = "";
  pendingSource = source;
  try {
    await client.chooseBoothSource(source);
    chosenSource = source;
    saveSetting("source", source);
  } catch (err) {
    if (!quiet) $("source-error").textContent = boothErrorText(err);
    if (err && (err.code === "no_booth" || err.code === "own_booth" || err.code === "invalid")) {
      chosenSource = "auto";
      saveSetting("source", "auto");
    }
  } finally {
    if (pendingSource === source) pendingSource = null;
  }
  showHearing();
}

function setupVolume() {
  const slider = $("volume");
  const audio = elements["source.audio"];
  const apply = () => {
    const value = Number(slider.value);
    audio.volume = value / 100;
    $("volume-value").textContent = `${value}%`;
    saveSetting("volume", value);
  };
  const saved = Number(loadSetting("volume", "100"));
  slider.value = String(Number.isFinite(saved) ? Math.min(100, Math.max(0, saved)) : 100);
  slider.addEventListener("input", apply);
  apply();
}

// --- the pictures --------------------------------------------------------------------------------

function showStage() {
  const floor = (state && state.floor) || {};
  const holder = floor.holder;
  const hasHolder = holder !== null && holder !== undefined;
  $("booth-stage").dataset.floor = hasHolder ? "held" : "none";
  $("floor-tile").classList.toggle("empty", !hasHolder);
  $("floor-name").textContent = hasHolder ? siteName(state, holder) : t("Nobody has the floor");
  const hall = ((state && state.sites) || []).find((s) => s.main_hall);
  $("hall-name").textContent = hall ? hall.name : t("Main hall");
}

// --- clocks --------------------------------------------------------------------------------------

function showClocks() {
  const onAir = air === "on" || air === "asked";
  if (state) airClock.update(onAir); // also notes, every second, that the turn still goes on
  const turn = airClock.turnSeconds();
  $("turn-clock").textContent = clock(turn);
  $("today-clock").textContent = clock(airClock.todaySeconds());
  const level = turn >= 30 * 60 ? "over" : turn >= 25 * 60 ? "long" : "";
  $("turn-clock").dataset.level = level;
  $("turn-hint").hidden = level !== "over";
  const shift = config.shift || {};
  if (shift.starts_at && shift.ends_at) {
    const now = Date.now();
    const starts = Date.parse(shift.starts_at);
    const ends = Date.parse(shift.ends_at);
    const text = now < starts ? t("starts in %(time)s", { time: clock((starts - now) / 1000) })
      : now < ends ? t("%(time)s left", { time: clock((ends - now) / 1000) })
        : t("ended");
    if ($("shift-left").textContent !== text) $("shift-left").textContent = text;
  }
}

// --- wiring --------------------------------------------------------------------------------------

client.on("joined", onJoined);
client.on("room.state", onState);
client.on("room.event", onRoomEvent);
client.on("connect", updateConnection);
client.on("revoked", (p) => end(revokedText(p && p.code)));
client.on("disconnect", () => {
  onAirWhenCut = onAirWhenCut || air === "on" || air === "asked";
  updateConnection();
});

$("air-button").addEventListener("click", pressAirButton);
$("handover-accept").addEventListener("click", pressHandover);
$("mute-button").addEventListener("click", () => { resumeAudio(); devices.toggleMute(); });
holdButton($("cough-button"), (down) => { resumeAudio(); devices.cough("button", down); });
$("leave-button").addEventListener("click", leave);
document.addEventListener("pointerdown", resumeAudio);
document.addEventListener("keydown", resumeAudio);

bindShortcuts([
  { code: "KeyO", shift: true, press: pressAirButton },
  { code: "KeyH", shift: true, press: pressHandover },
  { code: "KeyC", hold: (down) => devices.cough("key", down) },
  { code: "KeyM", press: () => devices.toggleMute() },
]);

nameLanguages();
addRelayChoices();
setupVolume();
setupSoundButton();
setupBoothChat(client, me);
setInterval(showClocks, 1000);
showAir();
showMicrophone();
showClocks();
start();
