// The site page's listener panel (server/templates/room_site.html, #listening): the language
// selector (the floor, or a booth), the floor level under the interpretation, what the site
// hears now, and the sign-language tile. The mix itself is listening.js's Mixer.
//
// The choice is the server's to remember (per user, or per guest invitation): the join answer's
// `listening` pre-selects it, a change is sent at once (`language`, the server switches the
// slot without renegotiation) and a new floor level is sent once the slider rests (500 ms).

import { DEFAULT_FLOOR_LEVEL, Mixer, clampLevel, hearing, signBooth } from "./listening.js";
import { $, errorText, h, languageName, nativeName, t } from "./ui.js";

const LEVEL_DEBOUNCE_MS = 500;
const PIN_KEY = "concord.sign.pinned";
const locale = document.documentElement.lang || undefined;
const percent = new Intl.NumberFormat(locale, { style: "percent" });
function boothLabel(booth) {
  const name = languageName(booth.language);
  return booth.video ? t("Sign language (%(language)s)", { language: name }) : name;
}

/** The language's own name beside the translated one, when the browser knows it and differs. */
function nativeLabel(booth) {
  const native = booth.video ? null : nativeName(booth.language);
  if (!native || native === languageName(booth.language)) return null;
  return h("span", { class: "native-name", lang: booth.language, text: native });
}

function readPinned() {
  try {
    return window.localStorage.getItem(PIN_KEY) === "1";
  } catch (err) {
    return false; // storage disabled: not remembered
  }
}

export class ListenerPanel {
  /**
   * client     the page's RoomClient
   * elements   the page's slot → media element map ("interpretation.audio", "floor.audio", …)
   */
  constructor({ client, elements }) {
    this.client = client;
    this.language = null; // the listener's choice (null: the floor)
    this.floorLevel = DEFAULT_FLOOR_LEVEL;
    this.heard = hearing(null, null);
    this.interpretation = null; // RoomState.interpretation
    this.admitted = false;
    this.pinned = readPinned();
    this._booths = ""; // the booths the selector shows, as a key
    this._levelTimer = null;
    this._sending = Promise.resolve();
    this.mixer = new Mixer({
      interpretation: elements["interpretation.audio"],
      floor: [elements["floor.audio"], elements["hall.audio"]],
      meters: { interpretation: $("interpretation-level"), floor: $("floor-sound-level") },
    });
    this.mixer.set(this.heard.mode, this.floorLevel);

    $("language-choice").addEventListener("change", (event) => {
      if (event.target.name === "language") this.choose(event.target.value || null);
    });
    $("floor-level").addEventListener("input", (event) => this.setFloorLevel(event.target.value));
    $("sign-pin").addEventListener("click", () => this.togglePin());
    this._showLevel();
    this._showPin();
  }

  /** The join answer: pre-select what this user (or invitation) chose last time. */
  onJoined(answer) {
    const listening = answer && answer.listening;
    if (!listening) return;
    this.language = listening.language || null;
    if (listening.floor_level !== undefined && listening.floor_level !== null) {
      this.floorLevel = clampLevel(listening.floor_level);
    }
    $("floor-level").value = String(this.floorLevel);
    this._showLevel();
    this._update();
  }

  /**
   * The site is in the room (also after a re-join): make sure the server's slot carries the
   * choice, whether or not it applied the remembered one by itself.
   */
  onAdmitted() {
    this.admitted = true;
    const booths = (this.interpretation && this.interpretation.booths) || [];
    if (!booths.some((b) => b.language === this.language)) return;
    this._send().catch((err) => { $("listening-error").textContent = errorText(err); });
  }

  /** A track was attached to one of the elements: the level meters follow it. */
  onTrack(slot) {
    if (slot.endsWith(".audio")) this.mixer.refresh();
  }

  /** After a user gesture: the meters' AudioContext may start now. */
  resume() {
    this.mixer.refresh();
  }

  onState(room) {
    this.interpretation = (room && room.interpretation) || null;
    this._update();
  }

  /** Choose a booth's language (null: the floor); takes effect on the server at once. */
  async choose(language) {
    if (language === this.language) return;
    const previous = this.language;
    this.language = language;
    this._update();
    $("listening-error").textContent = "";
    if (!this.admitted) return; // sent once admitted
    try {
      await this._send();
    } catch (err) {
      this.language = previous;
      this._update();
      $("listening-error").textContent = errorText(err);
    }
  }

  setFloorLevel(value) {
    this.floorLevel = clampLevel(value);
    this._showLevel();
    this.mixer.set(this.heard.mode, this.floorLevel);
    clearTimeout(this._levelTimer);
    if (!this.admitted) return;
    this._levelTimer = setTimeout(() => {
      this._send().catch((err) => { $("listening-error").textContent = errorText(err); });
    }, LEVEL_DEBOUNCE_MS);
  }

  togglePin() {
    this.pinned = !this.pinned;
    try {
      window.localStorage.setItem(PIN_KEY, this.pinned ? "1" : "0");
    } catch (err) {
      // storage disabled: the pin lasts as long as the page
    }
    this._showPin();
  }

  /** Focus the selected language (keyboard shortcut L). */
  focus() {
    if ($("listening").hidden) return;
    const checked = $("language-choice").querySelector("input:checked");
    if (checked) checked.focus();
  }

  // Requests go one after the other, so the server ends with the last choice and level.
  _send() {
    clearTimeout(this._levelTimer);
    const send = () => this.client.chooseLanguage(this.language, this.floorLevel);
    const next = this._sending.then(send, send);
    this._sending = next.catch(() => {});
    return next;
  }

  _update() {
    const booths = (this.interpretation && this.interpretation.booths) || [];
    $("listening").hidden = booths.length === 0;
    $("language-shortcut").hidden = booths.length === 0;
    this._showBooths(booths);
    this.heard = hearing(this.interpretation, this.language);
    this.mixer.set(this.heard.mode, this.floorLevel);
    this._showStatus();
    this._showSign();
  }

  _showBooths(booths) {
    const key = booths.map((b) => `${b.language}:${b.video ? 1 : 0}`).join(",");
    const list = $("language-booths");
    if (key !== this._booths) {
      this._booths = key;
      list.replaceChildren(...booths.map((booth) => h("label", { class: "language-option" },
        h("input", { type: "radio", name: "language", value: booth.language }),
        h("span", { class: "language-name", text: boothLabel(booth) }),
        nativeLabel(booth),
        h("span", { class: "on-air-dot", "data-language": booth.language, title: t("on air") },
          h("span", { class: "visually-hidden", text: t("on air") })))));
    }
    for (const booth of booths) {
      const dot = list.querySelector(`.on-air-dot[data-language="${CSS.escape(booth.language)}"]`);
      if (dot) dot.hidden = booth.on_air === null || booth.on_air === undefined || booth.switched_out;
    }
    // A choice whose booth is gone shows (and is heard) as the floor.
    const booth = booths.find((b) => b.language === this.language);
    const chosen = booth ? booth.language : "";
    for (const input of $("language-choice").querySelectorAll("input[name=language]")) {
      input.checked = input.value === chosen;
    }
    // The floor level matters only under a spoken interpretation.
    $("floor-level").disabled = !booth || Boolean(booth.video);
  }

  _showLevel() {
    $("floor-level-value").textContent = percent.format(this.floorLevel / 100);
    $("floor-level").setAttribute("aria-valuetext", percent.format(this.floorLevel / 100));
  }

  _showStatus() {
    const { mode, booth, reason } = this.heard;
    const name = booth ? languageName(booth.language) : "";
    let text = t("You hear the floor (original).");
    let detail = "";
    if (mode === "booth") {
      text = t("You hear the %(language)s interpretation, with the floor underneath.",
        { language: name });
    } else if (mode === "fallback") {
      text = t("No interpretation right now — you hear the floor");
      if (reason === "switched_out") detail = t("The floor is speaking %(language)s.", { language: name });
    } else if (mode === "sign") {
      text = t("Sign-language interpretation is shown beside the floor; you hear the floor.");
    }
    const status = $("listening-status");
    status.dataset.mode = mode;
    if (status.textContent !== text) status.textContent = text;
    if ($("listening-detail").textContent !== detail) $("listening-detail").textContent = detail;
  }

  _showSign() {
    const booths = (this.interpretation && this.interpretation.booths) || [];
    const hasSign = booths.some((b) => b.video);
    const tile = $("sign-tile");
    tile.hidden = !hasSign;
    tile.closest(".stage").classList.toggle("has-sign", hasSign);
    if (!hasSign) return;
    const booth = signBooth(this.interpretation, this.language);
    const live = Boolean(booth && booth.on_air !== null && booth.on_air !== undefined);
    tile.classList.toggle("empty", !live);
    $("sign-name").textContent = live ? languageName(booth.language)
      : t("No sign-language interpreter on air");
  }

  _showPin() {
    const button = $("sign-pin");
    button.setAttribute("aria-pressed", String(this.pinned));
    $("sign-tile").closest(".stage").classList.toggle("sign-pinned", this.pinned);
  }
}
