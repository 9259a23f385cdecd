// DOM helpers shared by the site page (site.js) and the chair console (console.js).
//
// Pages receive their configuration and their translated strings from the template as JSON
// blocks (#concord-config, #concord-strings-common, #concord-strings). UI text is looked up by
// its English msgid, which is also the fallback when a string is missing from the blocks.

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

export const config = readJson("concord-config");
// Strings shared by both pages come from room_common_strings.html; the page adds its own.
const strings = { ...readJson("concord-strings-common"), ...readJson("concord-strings") };
const locale = document.documentElement.lang || undefined;

/**
 * A language's name in the page's language ("lo" → "Lao"): from the server's CLDR names
 * (config.language_names, the conference's languages), else the browser's, else the code.
 */
export function languageName(code) {
  if (!code) return "";
  const known = (config.language_names || {})[code];
  if (known && known.name) return known.name;
  try {
    return new Intl.DisplayNames(locale ? [locale] : undefined, { type: "language" }).of(code) || code;
  } catch (err) {
    return code; // not a valid language tag, or an old browser
  }
}

/** A language's name in itself ("lo" → "ລາວ"), so a delegation finds its own in any UI. */
export function nativeName(code) {
  const known = (config.language_names || {})[code];
  return known && known.native ? known.native : null;
}

/** The translation of `key`, with `%(name)s` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export const $ = (id) => document.getElementById(id);

/** Create an element with attributes (`text` sets textContent) and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Site ids may arrive as numbers or strings: compare them as strings. */
export const sameId = (a, b) => a !== null && a !== undefined && String(a) === String(b);

export function siteName(state, siteId) {
  const site = state && (state.sites || []).find((s) => sameId(s.site_id, siteId));
  return site ? site.name : t("Site %(id)s", { id: siteId });
}

// Times on a 24-hour clock in every language, as the server writes them (Babel, "HH:mm").
const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

/** An ISO-8601 UTC timestamp shown in the viewer's local time. */
export function localTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  return Number.isNaN(date.getTime()) ? String(iso) : timeFormat.format(date);
}

/**
 * Seconds left in the floor holder's turn, or null without a limit. Reckoned on the server's
 * clock (state.server_time plus the time since the state arrived), not the browser's.
 */
export function remainingSeconds(state, nowMs = Date.now()) {
  const floor = state && state.floor;
  if (!floor || floor.holder === null || floor.holder === undefined) return null;
  if (!floor.limit_seconds || !floor.granted_at) return null;
  const serverNow = state.server_time !== undefined && state.received_at !== undefined
    ? state.server_time + (nowMs / 1000 - state.received_at)
    : nowMs / 1000;
  return Math.max(0, floor.granted_at + floor.limit_seconds - serverNow);
}

/** The floor holder's countdown in `timer` (hidden without a limit; marked in the last 30 s). */
export function showFloorTimer(timer, state) {
  const left = state ? remainingSeconds(state) : null;
  timer.hidden = left === null;
  if (left === null) return;
  timer.textContent = t("Time left: %(time)s", { time: formatDuration(left) });
  timer.classList.toggle("ending", left <= 30);
}

export function formatDuration(seconds) {
  const whole = Math.ceil(seconds);
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

/**
 * Show a received track in `el`. Media elements that will not start without a user gesture
 * (autoplay policy) reveal the #enable-sound button, whose click starts them all.
 */
export function attachTrack(el, track) {
  el.srcObject = new MediaStream([track]);
  play(el);
}

const blocked = new Set();

export function play(el) {
  const started = el.play();
  if (started && started.catch) {
    started.catch((err) => {
      if (err && err.name === "NotAllowedError") {
        blocked.add(el);
        const button = $("enable-sound");
        if (button) button.hidden = false;
      }
    });
  }
}

export function setupSoundButton() {
  const button = $("enable-sound");
  if (!button) return;
  button.addEventListener("click", () => {
    for (const el of blocked) el.play().catch(() => {});
    blocked.clear();
    button.hidden = true;
  });
}

/** The chat panel: #chat-log, #chat-form, #chat-input, #chat-error. */
export function setupChat(client) {
  const log = $("chat-log");
  const form = $("chat-form");
  const input = $("chat-input");
  client.on("chat", (message) => {
    log.append(h("li", {},
      h("time", { datetime: message.at, text: localTime(message.at) }), " ",
      h("strong", { text: message.from }), " ",
      h("span", { text: message.text })));
    while (log.children.length > 300) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    try {
      await client.chat(text);
      input.value = "";
      $("chat-error").textContent = "";
    } catch (err) {
      $("chat-error").textContent = errorText(err);
    }
  });
}

/** A readable message for a ProtocolError (its stable code translated, then the detail). */
export function errorText(err) {
  const code = err && err.code ? err.code : "error";
  const known = {
    rate_limited: t("Too many requests: wait a moment and try again."),
    disconnected: t("Not connected to the server."),
    timeout: t("The server did not answer in time."),
    forbidden: t("You are not allowed to do this."),
    room_locked: t("The room is locked."),
    not_in_lobby: t("This site is not waiting in the lobby."),
    floor: t("The floor cannot be changed this way now."),
    no_screen: t("This site is not sharing its screen."),
    too_large: t("This message is too large to send."),
    room_closed: t("The conference has ended and its room is closed."),
    room_elsewhere: err && err.answer && err.answer.url
      ? t("This conference's room is on another Concord server: %(url)s", { url: err.answer.url })
      : t("This conference's room is moving to another Concord server. Try again in a few seconds."),
    room_not_open: err && err.answer && err.answer.opens_at
      ? t("The room opens at %(time)s.", {
        time: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" })
          .format(new Date(err.answer.opens_at)),
      })
      : t("The room opens once the conference is approved."),
    unknown_site: t("This site is not part of this conference."),
    revoked: t("Your access to this room was withdrawn."),
  };
  return known[code] || t("Error: %(detail)s", { detail: (err && (err.detail || err.message)) || code });
}

/**
 * Why the server ended this connection (the `revoked` event's code), in the page's language.
 * The server closes the socket right after; socket.io does not reconnect a connection the
 * server closed, so the page stays on this message.
 */
export function revokedText(code) {
  const known = {
    invitation_withdrawn: t("The organiser withdrew this invitation link. Ask them for a new one."),
    invitation_expired: t("This invitation link has expired. Ask the organiser for a new one."),
    signed_out: t("You signed out. Sign in again to come back."),
    session_expired: t("Your session has expired. Open your link or sign in again."),
    token_revoked: t("The API token of this connection was revoked."),
    account_disabled: t("Your account has been disabled. Ask an administrator."),
    roles_changed: t("Your roles have changed. Reload the page to continue with your new rights."),
    site_deleted: t("The organiser removed this site from the conference."),
    booth_unassigned: t("You are no longer assigned to this booth. Ask the organiser."),
  };
  return known[code] || t("Your access to this room was withdrawn.");
}

/** Connection indicator #connection: data-state is offline, connecting, connected, reconnecting. */
export function showConnection(state) {
  const el = $("connection");
  if (!el || el.dataset.state === state) return;
  el.dataset.state = state;
  el.textContent = {
    offline: t("Not connected"),
    connecting: t("Connecting…"),
    connected: t("Connected"),
    reconnecting: t("Reconnecting…"),
  }[state] || state;
}
