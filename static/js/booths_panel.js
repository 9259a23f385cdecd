// The console's interpretation panel (room_console.html, #interpretation): the floor-language
// selector and the technician's booth table (docs/signalling.md, "Interpretation").
//
// The table is built from RoomState.interpretation (who may work in each booth, who is on air,
// what the booth hears) and refreshed once a second from `booths.status` (the channel's audio
// level, presence and listener counts). Polling runs only while the socket is connected, with
// never more than one request in flight. An interpreter on air whose channel stays silent is
// the classic failure: the row turns red and an alert says so.
//
// Also exports `boothEventText(event, state)`: interpretation events worded for a chair (the
// panel's `eventText(event)` adds to it the memory of each booth's route).

import { $, errorText, h, languageName, localTime, sameId, siteName, t } from "./ui.js";

const N_ = (text) => text; // marks UI text translated later with t() (the template lists it)

const POLL_MS = 1000;
const SILENCE_ALARM_MS = 2000; // no packet for this long while someone is on air: flag the booth
const QUIET_ALARM_MS = 10000; // packets of digital silence (a muted microphone) for this long
const LOUDEST_SHOWN = 60; // the level bar spans -60 dBov (empty) to 0 dBov (full)
const SILENT = 127; // -dBov of digital silence (RFC 6464)
const STOP_CODES = new Set(["invalid", "forbidden", "not_joined"]); // polling again will not help

const labelled = (code) => `${languageName(code)} (${code})`;

// --- the event log -------------------------------------------------------------------------------

const EVENT_TEXT = {
  "booth.on_air": N_("%(name)s is on air in the %(booth)s booth"),
  "booth.handover_requested": N_("%(to)s asked to take over from %(from)s in the %(booth)s booth"),
  "booth.handover": N_("%(to)s took over from %(from)s in the %(booth)s booth"),
  "booth.handover_withdrawn": N_("%(to)s no longer asks to take over in the %(booth)s booth"),
};
const OFF_AIR_TEXT = {
  interpreter: N_("%(name)s went off air in the %(booth)s booth: its listeners hear the floor"),
  disconnected: N_("%(name)s lost the connection and went off air in the %(booth)s booth: its listeners hear the floor"),
};

/** The name of an interpreter of `language`'s booth, from RoomState.interpretation. */
function interpreterName(state, language, id) {
  const booths = (state && state.interpretation && state.interpretation.booths) || [];
  const booth = booths.find((b) => b.language === language);
  const found = booth && (booth.interpreters || []).find((i) => sameId(i.id, id));
  return found ? found.name : t("an interpreter");
}

function floorLanguageText(data) {
  const language = data.language ? labelled(data.language) : "";
  if (data.by === "speaker") {
    return language ? t("The floor is speaking %(language)s (set automatically for the speaker)", { language })
      : t("The floor language was cleared (set automatically for the speaker)");
  }
  return language ? t("The chair set the floor language to %(language)s", { language })
    : t("The chair cleared the floor language");
}

function routeText(booth, data) {
  if (data.switched_out) {
    return t("The %(booth)s booth is switched out: its listeners hear the floor directly", { booth });
  }
  if (data.source === "booth" && data.relay_from) {
    return t("The %(booth)s booth works by relay from the %(relay)s booth", { booth, relay: languageName(data.relay_from) });
  }
  return t("The %(booth)s booth works from the floor", { booth });
}

function sourceText(name, booth, source) {
  if (source === "floor") return t("%(name)s (%(booth)s booth) now listens to the floor", { name, booth });
  if (source === "auto" || !source) return t("%(name)s (%(booth)s booth) now listens to the source chosen automatically", { name, booth });
  return t("%(name)s (%(booth)s booth) now listens to the %(relay)s booth", { name, booth, relay: languageName(source) });
}

/**
 * An interpretation event (booth.*, floor.language, listener.language) in a chair's words, or
 * null for other events. `state` is the latest RoomState (for interpreters' and sites' names).
 */
export function boothEventText(event, state) {
  const data = event.data || {};
  const booth = languageName(data.language);
  const name = (id) => interpreterName(state, data.language, id);
  switch (event.type) {
    case "booth.on_air":
      return t(EVENT_TEXT[event.type], { name: name(data.interpreter), booth });
    case "booth.off_air":
      return t(OFF_AIR_TEXT[data.reason] || OFF_AIR_TEXT.interpreter, { name: name(data.interpreter), booth });
    case "booth.handover_requested":
    case "booth.handover":
    case "booth.handover_withdrawn":
      return t(EVENT_TEXT[event.type], { from: name(data.from), to: name(data.to), booth });
    case "booth.presence":
      return data.present ? t("%(name)s arrived in the %(booth)s booth", { name: name(data.interpreter), booth })
        : t("%(name)s left the %(booth)s booth", { name: name(data.interpreter), booth });
    case "booth.source":
      return sourceText(name(data.interpreter), booth, data.source);
    case "booth.route":
      return routeText(booth, data);
    case "floor.language":
      return floorLanguageText(data);
    case "listener.language": {
      const who = event.site_id !== null && event.site_id !== undefined ? siteName(state, event.site_id) : t("A console");
      return data.language ? t("%(site)s listens in %(language)s", { site: who, language: labelled(data.language) })
        : t("%(site)s listens to the floor", { site: who });
    }
    default:
      return null;
  }
}

// --- the panel -----------------------------------------------------------------------------------

export class BoothsPanel {
  /**
   * @param {{client: import("./protocol.js").RoomClient, floorLanguages: string[],
   *          onError: (text: string) => void}} options
   *   floorLanguages: the conference's floor languages (codes); the booths' languages and the
   *   current floor language are added to the selector as they appear in RoomState.
   */
  constructor({ client, floorLanguages = [], onError = () => {} }) {
    this.client = client;
    this.floorLanguages = floorLanguages;
    this.onError = onError;
    this.state = null; // the latest RoomState
    this.status = new Map(); // language → the latest BoothStatus
    this.silentSince = new Map(); // language → ms when its on-air channel fell silent
    this.polling = false;
    this.inFlight = false;
    this.timer = null;
    this.select = $("floor-language");
    this.setting = false; // a floor.language request is on its way
    this.routes = new Map(); // language → what the booth last worked from, for the event log
    this.speakerNote = null; // {time, site}: a floor language set for a speaker not yet named

    this.select.addEventListener("change", () => this.setFloorLanguage(this.select.value || null));
    client.on("joined", (answer) => {
      const booths = (answer.room && answer.room.interpretation && answer.room.interpretation.booths) || [];
      this.routes = new Map(booths.map((b) => [b.language, b.switched_out ? "out" : b.hears || "floor"]));
      this.update(answer.room);
      this.start();
    });
    client.on("room.state", (room) => this.update(room));
    client.on("room.event", (event) => {
      if (event.type === "floor.language") this.noteFloorLanguage(event);
    });
    client.on("disconnect", () => this.stop());
  }

  /**
   * `event` for the event log: its text, null when it is not an interpretation event, or ""
   * when it says nothing new (a booth.route event for a booth whose route did not change).
   */
  eventText(event) {
    if (event.type === "booth.route") {
      const data = event.data || {};
      const route = data.switched_out ? "out" : (data.source === "booth" && data.relay_from) || "floor";
      if (this.routes.get(data.language) === route) return "";
      this.routes.set(data.language, route);
    }
    return boothEventText(event, this.state);
  }

  // --- polling booths.status ---------------------------------------------------------------------

  start() {
    this.polling = true;
    $("booths-status-note").textContent = "";
    if (!this.timer) this.timer = setInterval(() => this.poll(), POLL_MS);
    this.poll();
  }

  stop() {
    this.polling = false;
    clearInterval(this.timer);
    this.timer = null;
    this.status.clear(); // levels from before the disconnection mean nothing now
    this.silentSince.clear();
    this.renderFloorLanguage();
    this.render();
  }

  async poll() {
    if (!this.polling || this.inFlight || !this.client.connected) return;
    if (!this.booths().length) return;
    this.inFlight = true;
    try {
      const answer = await this.client.boothsStatus();
      if (!this.polling) return;
      this.status = new Map((answer.booths || []).map((b) => [b.language, b]));
      $("booths-status-note").textContent = "";
      this.render();
    } catch (err) {
      if (!this.polling) return; // stopped meanwhile (a disconnection says so itself)
      if (STOP_CODES.has(err.code)) this.stop();
      $("booths-status-note").textContent = t("Live booth status is not available: %(reason)s", { reason: errorText(err) });
    } finally {
      this.inFlight = false;
    }
  }

  // --- the floor language ------------------------------------------------------------------------

  async setFloorLanguage(language) {
    this.setting = true;
    try {
      await this.client.setFloorLanguage(language);
      this.onError("");
    } catch (err) {
      this.onError(errorText(err));
    } finally {
      this.setting = false;
      this.renderFloorLanguage(); // back to the room's value if the change was refused
    }
  }

  /**
   * Say who set the floor language and when. The room sets it for a speaker without naming the
   * site in the event: the floor holder of the state that follows is named instead.
   */
  noteFloorLanguage(event) {
    const data = event.data || {};
    const note = $("floor-language-note");
    const time = localTime(event.at);
    note.dataset.by = data.by || "chair";
    this.speakerNote = null;
    if (data.by !== "speaker") {
      note.textContent = t("Set by the chair at %(time)s", { time });
      return;
    }
    note.textContent = t("Changed automatically at %(time)s for the speaker", { time });
    this.speakerNote = { time, site: event.site_id };
  }

  /** The speaker's name in the note, once a state says who has the floor. */
  nameSpeaker(room) {
    const pending = this.speakerNote;
    if (!pending) return;
    const site = pending.site !== null && pending.site !== undefined ? pending.site : (room.floor || {}).holder;
    if (site === null || site === undefined) return;
    this.speakerNote = null;
    $("floor-language-note").textContent = t("Changed automatically at %(time)s: %(site)s has the floor",
      { time: pending.time, site: siteName(room, site) });
  }

  renderFloorLanguage() {
    const interpretation = (this.state && this.state.interpretation) || {};
    const current = interpretation.floor_language || "";
    const codes = [...this.floorLanguages];
    for (const code of [...this.booths().map((b) => b.language), current]) {
      if (code && !codes.includes(code)) codes.push(code);
    }
    const wanted = ["", ...codes];
    const have = [...this.select.options].map((o) => o.value);
    if (have.join("\n") !== wanted.join("\n")) {
      this.select.replaceChildren(...wanted.map((code) => h("option", {
        value: code, text: code ? labelled(code) : t("(not set)") })));
    }
    if (!this.setting) this.select.value = current;
    this.select.disabled = !this.state || !this.client.connected;
    const root = $("interpretation");
    root.dataset.floorLanguage = current;
  }

  // --- the booth table ---------------------------------------------------------------------------

  booths() {
    return (this.state && this.state.interpretation && this.state.interpretation.booths) || [];
  }

  update(room) {
    if (!room) return;
    this.state = room;
    this.nameSpeaker(room);
    this.renderFloorLanguage();
    this.render();
  }

  render() {
    const booths = this.booths();
    $("booths-empty").hidden = booths.length > 0;
    const list = $("booth-list");
    const cards = new Map([...list.children].map((card) => [card.dataset.language, card]));
    const alarms = [];
    booths.forEach((booth, i) => {
      const card = cards.get(booth.language) || boothCard(booth.language);
      cards.delete(booth.language);
      const alarm = this.updateCard(card, booth, this.status.get(booth.language));
      if (alarm) alarms.push(alarm);
      if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
    });
    for (const card of cards.values()) card.remove();
    const alert = alarms.join(" ");
    if ($("booths-alert").textContent !== alert) $("booths-alert").textContent = alert;
  }

  /** Fill one booth's card; returns the alarm text when its on-air channel is silent. */
  updateCard(card, booth, status) {
    const name = languageName(booth.language);
    const interpreters = booth.interpreters || [];
    const onAir = booth.on_air !== null && booth.on_air !== undefined ? booth.on_air : null;
    const nameOf = (id) => {
      const found = interpreters.find((i) => sameId(i.id, id));
      if (found) return found.name;
      return status && sameId(status.on_air, id) && status.on_air_name ? status.on_air_name : t("an interpreter");
    };
    const part = (selector) => card.querySelector(selector);

    part(".booth-name").textContent = labelled(booth.language);
    part(".level-meter").setAttribute("aria-label", t("Sound level of the %(booth)s booth", { booth: name }));
    part(".sign-flag").hidden = !booth.video;
    part(".on-air-flag").hidden = onAir === null;
    part(".switched-out").hidden = !booth.switched_out;
    card.dataset.switchedOut = String(Boolean(booth.switched_out));
    card.dataset.onAir = onAir === null ? "" : String(onAir);

    const air = part(".on-air");
    if (onAir !== null) {
      air.replaceChildren(h("strong", { class: "on-air-name", text: nameOf(onAir) }));
      if (booth.handover_to !== null && booth.handover_to !== undefined) {
        air.append(h("span", { class: "handover",
          text: t("%(name)s asked to take over", { name: nameOf(booth.handover_to) }) }));
      }
    } else {
      air.replaceChildren(h("span", { class: "nobody", text: t("nobody on air — listeners hear the floor") }));
    }

    if (booth.switched_out) {
      part(".route").textContent = t("switched out: the floor speaks %(language)s, its listeners hear the floor directly", { language: name });
    } else if (booth.hears && booth.hears !== "floor") {
      part(".route").textContent = t("relay from %(language)s", { language: labelled(booth.hears) });
    } else {
      part(".route").textContent = t("the floor");
    }

    const present = new Set(interpreters.filter((i) => i.present).map((i) => String(i.id)));
    if (!interpreters.length && status) (status.present || []).forEach((id) => present.add(String(id)));
    const people = interpreters.length ? interpreters : [...present].map((id) => ({ id, name: nameOf(id) }));
    part(".present").replaceChildren(...people.map((i) => {
      const here = present.has(String(i.id));
      return h("li", { class: here ? "here" : "away", "data-present": String(here) },
        h("span", { class: "name", text: i.name }), " ",
        h("span", { class: "presence", text: here ? t("present") : t("not here") }));
    }));

    const listeners = status && status.listeners !== undefined ? status.listeners : booth.listeners;
    part(".listeners").textContent = listeners === undefined || listeners === null ? "—" : String(listeners);

    return this.updateLevel(card, booth, status, onAir === null ? null : nameOf(onAir));
  }

  /**
   * The channel's level bar. No packet in the last second (level null) while someone is on air
   * is flagged after SILENCE_ALARM_MS; packets of digital silence only after
   * QUIET_ALARM_MS (a cough key, a pause).
   */
  updateLevel(card, booth, status, onAirName) {
    const bar = card.querySelector(".level-bar");
    const text = card.querySelector(".level-text");
    const meter = card.querySelector(".level-meter");
    if (!status) {
      bar.style.width = "0%";
      text.textContent = "—";
      meter.setAttribute("aria-valuetext", t("unknown"));
      delete card.dataset.level;
      card.classList.remove("alarm");
      return null;
    }
    const level = status.level;
    const nothing = level === null || level === undefined;
    const silent = nothing || level >= SILENT;
    const loudness = silent ? 0 : Math.max(0, Math.min(1, (LOUDEST_SHOWN - level) / LOUDEST_SHOWN));
    bar.style.width = `${Math.round(loudness * 100)}%`;
    const words = silent ? t("silent") : `−${level} dB`;
    text.textContent = words;
    meter.setAttribute("aria-valuenow", String(Math.round(loudness * 100)));
    meter.setAttribute("aria-valuetext", words);
    card.dataset.level = nothing ? "none" : silent ? "silent" : String(level);

    const now = Date.now();
    const kind = nothing ? "none" : "silent";
    const since = this.silentSince.get(booth.language);
    if (!silent || !onAirName) this.silentSince.delete(booth.language);
    else if (!since || since.kind !== kind) this.silentSince.set(booth.language, { kind, at: now });
    const quiet = this.silentSince.get(booth.language);
    const alarm = Boolean(quiet) && now - quiet.at >= (quiet.kind === "none" ? SILENCE_ALARM_MS : QUIET_ALARM_MS);
    card.classList.toggle("alarm", alarm);
    if (!alarm) return null;
    const params = { booth: languageName(booth.language), name: onAirName };
    return quiet.kind === "none" ? t("%(booth)s booth: %(name)s is on air but no sound arrives.", params)
      : t("%(booth)s booth: %(name)s is on air but silent.", params);
  }
}

function boothCard(language) {
  const nameId = `booth-${language}-name`;
  const fact = (label, cls, content = null) => h("div", {},
    h("dt", { text: label }), h("dd", { class: cls }, content));
  return h("li", { class: "booth-card", "data-language": language, "aria-labelledby": nameId },
    h("div", { class: "booth-head" },
      h("h3", { class: "booth-name", id: nameId }),
      h("span", { class: "badge on-air-flag", text: t("on air") }),
      h("span", { class: "badge switched-out", text: t("switched out") }),
      h("span", { class: "badge sign-flag", text: t("sign language (video)") })),
    h("div", { class: "level" },
      h("div", { class: "level-meter", role: "meter",
        "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" },
      h("div", { class: "level-bar" })),
      h("span", { class: "level-text", "aria-hidden": "true" })),
    h("dl", { class: "booth-facts" },
      fact(t("On air"), "on-air"),
      fact(t("Booth hears"), "route"),
      fact(t("Interpreters"), "interpreters", h("ul", { class: "present" })),
      fact(t("Listeners"), "listeners")));
}
