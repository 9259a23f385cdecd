// The chair console (server/templates/room_console.html): lobby, site grid, floor queue and
// timer, room lock, interpretation (booths_panel.js) and the event timeline. It joins as
// "console" as soon as the page opens and receives every site's picture in a grid slot, plus
// the hall's sound and the floor.

import { RoomClient } from "./protocol.js";
import { RecordingIndicator, recordingControls } from "./recording_indicator.js";
import { SigningPanel } from "./signing.js";
import { MediaLink, consoleSlots } from "./media.js";
import { BoothsPanel } from "./booths_panel.js";
import {
  $, attachTrack, config, errorText, formatDuration, h, localTime, play,
  revokedText, sameId, setupChat, setupSoundButton, showConnection, showFloorTimer, siteName, t,
} from "./ui.js";

const N_ = (text) => text; // marks UI text translated later with t() (the template lists it)

const root = $("room-console");
const client = new RoomClient();
recordingControls(
  client, new RecordingIndicator(client, document.getElementById("rec-indicator")),
  document.getElementById("recording-start"), document.getElementById("recording-stop"),
  (text) => { document.getElementById("console-error").textContent = text; },
);
new SigningPanel(client);
const siteCount = (config.sites || []).length;
const elements = {
  "hall.audio": $("hall-audio"),
  "floor.video": $("floor-video"),
  "floor.audio": $("floor-audio"),
};
for (let i = 0; i < siteCount; i += 1) {
  const video = h("video", { autoplay: true, playsinline: true, class: "tile-video", "data-slot": `grid.${i}.video` });
  video.muted = true; // pictures only: sound comes through hall.audio and floor.audio
  elements[`grid.${i}.video`] = video;
}

let link = null;
let state = null;
let canChair = false;
const booths = new BoothsPanel({
  client,
  floorLanguages: config.floor_languages || [],
  onError: (text) => { $("console-error").textContent = text; },
});

window.concord = {
  client,
  elements,
  get pc() { return link ? link.pc : null; },
  get link() { return link; },
  get state() { return state; },
  get canChair() { return canChair; },
  booths,
};

const EVENT_TEXT = {
  "lobby.arrived": N_("%(site)s is waiting in the lobby"),
  "lobby.admitted": N_("%(site)s was admitted"),
  "lobby.refused": N_("%(site)s was refused"),
  "site.connected": N_("%(site)s connected"),
  "site.reconnecting": N_("%(site)s is reconnecting"),
  "site.left": N_("%(site)s left"),
  "site.removed": N_("%(site)s was removed"),
  "site.added": N_("%(site)s was added to the conference"),
  "room.ended": N_("The conference ended; the room closed"),
  "site.deleted": N_("%(site)s was deleted from the conference"),
  "site.muted": N_("%(site)s was muted"),
  "site.unmuted": N_("%(site)s was unmuted"),
  "room.locked": N_("The room was locked"),
  "room.unlocked": N_("The room was unlocked"),
  "floor.requested": N_("%(site)s asked for the floor"),
  "floor.withdrawn": N_("%(site)s withdrew its request for the floor"),
  "floor.granted": N_("%(site)s was given the floor"),
  "floor.released": N_("%(site)s's turn ended"),
  "presentation.started": N_("%(site)s started presenting"),
  "presentation.stopped": N_("The presentation stopped"),
  "speaker.changed": N_("%(site)s is speaking"),
  chat: N_("%(site)s wrote in the chat"),
};
const RELEASE_REASONS = {
  chair: N_("ended by the chair"),
  "time limit": N_("time limit reached"),
  "next speaker": N_("next speaker"),
  left: N_("the site left"),
};
const LINK_TEXT = { offline: N_("offline"), connected: N_("connected"), reconnecting: N_("reconnecting") };
const ADMISSION_TEXT = {
  absent: N_("not arrived"), lobby: N_("in the lobby"), admitted: N_("admitted"), refused: N_("refused"),
  removed: N_("removed"), left: N_("left"),
};

// --- joining and media -------------------------------------------------------------------------

async function start() {
  showConnection("connecting");
  try {
    await client.connect();
    await client.join(config.join); // handled by the "joined" listener
  } catch (err) {
    showConnection("offline");
    $("console-error").textContent = t("Could not join: %(reason)s", { reason: errorText(err) });
  }
}

client.on("joined", (answer) => {
  canChair = Boolean(answer.can_chair);
  root.dataset.canChair = String(canChair);
  onState(answer.room);
  if (answer.admission !== "admitted") return;
  if (link) {
    if (answer.ice_servers) link.iceServers = answer.ice_servers; // fresh TURN credentials
    link.restart("rejoined");
    return;
  }
  link = new MediaLink({
    client,
    iceServers: answer.ice_servers || config.ice_servers || [],
    receive: consoleSlots(siteCount),
    onTrack: (slot, track) => { if (elements[slot]) attachTrack(elements[slot], track); },
    onState: (linkState, detail) => {
      if (linkState === "failed") $("console-error").textContent = errorText(detail);
      if (linkState === "connected" && $("console-error").dataset.hint === "media") {
        $("console-error").textContent = "";
        delete $("console-error").dataset.hint;
      }
      updateConnection();
    },
  });
  link.start();
  hintIfNoMedia(link);
});
client.on("room.state", (room) => onState(room));
client.on("room.event", (event) => {
  addEvent(event);
  if (event && event.type === "room.ended") {
    client.close();
    if (link) link.close();
    link = null;
    $("console-error").textContent = t("The conference has ended and its room is closed.");
    updateConnection();
  }
});
client.on("connect", () => updateConnection());
client.on("disconnect", () => updateConnection());
client.on("revoked", (p) => {
  if (link) link.close();
  link = null;
  $("console-error").textContent = revokedText(p && p.code);
  updateConnection();
});

const MEDIA_HINT_MS = 15000;

/** The chair sees why the sites' pictures stay black when the media connection never comes
 *  up (the room's controls work without it). */
function hintIfNoMedia(watched) {
  setTimeout(() => {
    if (link !== watched || watched.state === "connected" || $("console-error").textContent) return;
    $("console-error").dataset.hint = "media";
    $("console-error").textContent = t(
      "The sites' pictures and sound have not connected after 15 seconds; the room's controls work without them. A firewall that blocks UDP, or a browser setting that blocks local network connections, can stop them: ask the technician, or try another browser.");
  }, MEDIA_HINT_MS);
}

function updateConnection() {
  if (!client.connected) showConnection(link ? "reconnecting" : "offline");
  else if (!link || link.state === "connected") showConnection(link ? "connected" : "connecting");
  else showConnection(link.state === "reconnecting" ? "reconnecting" : "connecting");
}

/** Run a chair action; its error, if any, goes to #console-error. */
async function act(action) {
  try {
    await action();
    $("console-error").textContent = "";
  } catch (err) {
    $("console-error").textContent = errorText(err);
  }
}

/** The speaking-time limit from #floor-limit (minutes) in seconds; undefined when invalid. */
function limitSeconds() {
  const input = $("floor-limit");
  if (!input.checkValidity()) {
    input.reportValidity();
    return undefined;
  }
  return input.value.trim() ? Math.round(Number(input.value) * 60) : null;
}

function grant(siteId) {
  const limit = limitSeconds();
  if (limit !== undefined) act(() => client.grantFloor(siteId, limit));
}

// --- rendering -----------------------------------------------------------------------------------

/**
 * Make `list`'s children match `items` (keyed), creating, updating and removing nodes but
 * moving existing ones only when the order changed: a moved or removed node loses the focus,
 * which then goes to `fallback` rather than the top of the page.
 */
function syncList(list, items, keyOf, create, update, fallback) {
  const existing = new Map([...list.children].map((el) => [el.dataset.key, el]));
  const wanted = items.map((item) => {
    const key = String(keyOf(item));
    const el = existing.get(key) || create(item);
    el.dataset.key = key;
    existing.delete(key);
    update(el, item);
    return el;
  });
  for (const el of existing.values()) {
    const hadFocus = el.contains(document.activeElement);
    el.remove();
    if (hadFocus && fallback) fallback.focus();
  }
  wanted.forEach((el, i) => {
    if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
  });
}

function onState(room) {
  if (!room) return;
  state = room;
  const sites = room.sites || [];
  const floor = room.floor || {};

  const lock = $("lock-toggle");
  lock.setAttribute("aria-pressed", String(Boolean(room.locked)));
  lock.textContent = room.locked ? t("Unlock the room") : t("Lock the room");
  lock.disabled = !canChair;
  $("lock-status").textContent = room.locked ? t("The room is locked: new sites cannot arrive.") : "";

  const lobby = sites.filter((s) => s.admission === "lobby");
  $("lobby-empty").hidden = lobby.length > 0;
  $("lobby-count").textContent = String(lobby.length);
  syncList($("lobby-list"), lobby, (s) => s.site_id, lobbyItem, (el, s) => {
    el.querySelector(".name").textContent = s.name;
    // The site's last pre-conference check (docs/signalling.md, "Site checks").
    const warning = el.querySelector(".lobby-warning");
    const flag = { failed: t("last check failed"), passed: "" }[s.check] ?? t("not checked");
    warning.textContent = flag;
    warning.hidden = !flag;
    el.querySelectorAll("button").forEach((b) => { b.disabled = !canChair; });
  }, $("lobby-title"));

  // Tiles in RoomState.grid order (each with its grid slot's video), then the other sites.
  const grid = room.grid || [];
  const ordered = grid.map((id) => sites.find((s) => sameId(s.site_id, id))).filter(Boolean);
  ordered.push(...sites.filter((s) => s.admission !== "lobby" && !ordered.includes(s)));
  syncList($("site-grid"), ordered, (s) => s.site_id, siteTile,
    (el, s) => updateTile(el, s, grid.findIndex((id) => sameId(id, s.site_id))), $("sites-title"));

  const holder = floor.holder;
  const hasHolder = holder !== null && holder !== undefined;
  const status = hasHolder ? t("%(site)s has the floor", { site: siteName(room, holder) }) : t("Nobody has the floor");
  if ($("floor-status").textContent !== status) $("floor-status").textContent = status;
  $("floor-tile").classList.toggle("empty", !hasHolder);
  $("floor-name").textContent = hasHolder ? siteName(room, holder) : t("Nobody has the floor");
  $("floor-release").disabled = !canChair || !hasHolder;
  const queue = floor.queue || [];
  $("queue-empty").hidden = queue.length > 0;
  syncList($("floor-queue"), queue, (id) => id, queueItem, (el, id) => {
    el.querySelector(".name").textContent = siteName(room, id);
    el.querySelector("button").disabled = !canChair;
  }, $("floor-title"));
  updateTimer();
}

function lobbyItem(site) {
  const id = site.site_id;
  return h("li", { class: "lobby-item" },
    h("span", { class: "name" }), " ",
    h("span", { class: "badge status-live lobby-warning", hidden: true }), " ",
    h("button", { type: "button", class: "primary", "data-action": "admit", text: t("Admit"),
      onclick: () => act(() => client.admit(id)) }), " ",
    h("button", { type: "button", class: "danger", "data-action": "refuse", text: t("Refuse"),
      onclick: () => act(() => client.refuse(id)) }));
}

function queueItem(id) {
  return h("li", { class: "queue-item" },
    h("span", { class: "name" }), " ",
    h("button", { type: "button", "data-action": "grant", text: t("Give the floor"),
      onclick: () => grant(id) }));
}

function siteTile(site) {
  const id = site.site_id;
  const nameId = `site-name-${id}`;
  const current = () => (state.sites || []).find((s) => sameId(s.site_id, id)) || site;
  const button = (action, onclick, extra = {}) => h("button", {
    type: "button", "data-action": action, "aria-describedby": nameId, onclick, ...extra });
  return h("li", { class: "site-tile", "data-site-id": id },
    h("div", { class: "tile-media" }),
    h("div", { class: "tile-info" },
      h("strong", { class: "name", id: nameId }), " ",
      h("span", { class: "badge link" }), " ",
      h("span", { class: "badge admission" }), " ",
      h("span", { class: "badge muted-flag", text: t("muted") }), " ",
      h("span", { class: "badge floor-flag", text: t("has the floor") }), " ",
      h("span", { class: "badge speaking-flag", text: t("speaking") })),
    h("div", { class: "tile-actions" },
      button("mute", () => act(() => client.mute(id, !current().muted))),
      button("grant", () => grant(id), { text: t("Give the floor") }),
      button("present", () => act(() => client.present(sameId(state.presenter, id) ? null : id))),
      button("rejoin", () => act(() => client.askRejoin(id)), { text: t("Ask to rejoin") }),
      button("remove", () => act(() => client.remove(id)), { text: t("Remove"), class: "danger" })));
}

function updateTile(tile, site, gridIndex) {
  const id = site.site_id;
  const floor = state.floor || {};
  tile.dataset.link = site.link;
  tile.dataset.admission = site.admission;
  tile.dataset.muted = String(Boolean(site.muted));
  tile.classList.toggle("speaking", sameId(state.speaker, id));
  tile.querySelector(".name").textContent = site.main_hall ? t("%(site)s (main hall)", { site: site.name }) : site.name;
  tile.querySelector(".link").textContent = t(LINK_TEXT[site.link] || site.link);
  tile.querySelector(".admission").textContent = t(ADMISSION_TEXT[site.admission] || site.admission);
  tile.querySelector(".admission").hidden = site.admission === "admitted";
  tile.querySelector(".muted-flag").hidden = !site.muted;
  tile.querySelector(".floor-flag").hidden = !sameId(floor.holder, id);
  tile.querySelector(".speaking-flag").hidden = !sameId(state.speaker, id);

  const media = tile.querySelector(".tile-media");
  const video = gridIndex >= 0 ? elements[`grid.${gridIndex}.video`] : null;
  if (video && media.firstChild !== video) {
    media.replaceChildren(video);
    if (video.srcObject && video.paused) play(video);
  } else if (!video && (!media.firstChild || media.firstChild.tagName === "VIDEO")) {
    media.replaceChildren(h("p", { class: "no-video", text: t("No picture") }));
  }

  const admitted = site.admission === "admitted";
  const presenting = sameId(state.presenter, id);
  for (const b of tile.querySelectorAll(".tile-actions button")) b.disabled = !canChair || !admitted;
  const mute = tile.querySelector('[data-action="mute"]');
  mute.textContent = site.muted ? t("Unmute") : t("Mute");
  mute.setAttribute("aria-pressed", String(Boolean(site.muted)));
  tile.querySelector('[data-action="present"]').textContent = presenting ? t("Stop the presentation") : t("Show the presentation");
  tile.querySelector('[data-action="grant"]').disabled ||= sameId(floor.holder, id);
}

function updateTimer() {
  showFloorTimer($("floor-timer"), state);
}

function eventText(event) {
  const data = event.data || {};
  const site = event.site_id !== null && event.site_id !== undefined ? siteName(state, event.site_id) : "";
  let text = booths.eventText(event);
  if (text !== null) return text;
  if (event.type === "speaker.changed" && !site) text = t("Nobody is speaking");
  else if (event.type === "chat" && !site) text = t("A chat message from a console");
  else if (EVENT_TEXT[event.type]) text = t(EVENT_TEXT[event.type], { site });
  else text = site ? `${event.type} (${site})` : event.type;
  if (event.type === "floor.granted" && data.limit_seconds) {
    text += ` · ${t("limit %(time)s", { time: formatDuration(data.limit_seconds) })}`;
  }
  if (event.type === "floor.released" && data.reason) {
    text += ` · ${t(RELEASE_REASONS[data.reason] || data.reason)}`;
  }
  return text;
}

function addEvent(event) {
  const text = eventText(event);
  if (!text) return; // nothing new to say (a booth route that did not change)
  const list = $("timeline");
  // The active speaker can change several times a second: keep only the latest of a run.
  const newest = list.firstElementChild;
  if (event.type === "speaker.changed" && newest && newest.dataset.type === event.type) newest.remove();
  list.prepend(h("li", { "data-type": event.type, "data-reason": (event.data || {}).reason },
    h("time", { datetime: event.at, text: localTime(event.at) }), " ",
    h("span", { text })));
  while (list.children.length > 500) list.lastElementChild.remove();
}

// --- wiring ----------------------------------------------------------------------------------------

$("lock-toggle").addEventListener("click", () => act(() => client.lock(!(state && state.locked))));
$("floor-release").addEventListener("click", () => act(() => client.releaseFloor()));
setupSoundButton();
setupChat(client);
setInterval(updateTimer, 500);
start();
