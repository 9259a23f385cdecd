// The health dashboard's alerts list (#alert-list, keyed by alert id, updated in place) and
// its alert sound: a short WebAudio beep when a new alert arrives, with an on/off toggle.

import { ALERT_TEXT, FLAG_TEXT, WHERE_TEXT } from "./health_state.js";
import { h, t } from "./ui.js";

const N_ = (text) => text; // translated with t() (the template lists it)
const percent = (v) => `${(v * 100).toFixed(1)}%`;

/** What the site's people experienced, in the reader's language: `facts` (an alert's, or a
 *  row's `experience`) with `concealed`, `freezes`/`frozen_seconds` or `reconnections`;
 *  `only`, when given, says which of them to word (a row's flags). */
export function experienceParts(facts, only = null) {
  const parts = [];
  const wanted = (flag) => only === null || only.includes(flag);
  if (!facts) return parts;
  if (wanted("concealed_audio") && typeof facts.concealed === "number") {
    parts.push(t(N_("audio concealed %(value)s"), { value: percent(facts.concealed) }));
  }
  if (wanted("frozen_received_video") && typeof facts.freezes === "number") {
    parts.push(t(N_("video freezes %(count)s (%(seconds)s s)"),
      { count: facts.freezes, seconds: (facts.frozen_seconds || 0).toFixed(1) }));
  }
  if (wanted("reconnected") && typeof facts.reconnections === "number") {
    parts.push(t(N_("reconnections %(count)s"), { count: facts.reconnections }));
  }
  return parts;
}

/** A row's flags in the reader's language, those of what its people experienced with what
 *  was measured ("audio concealed 12.0%"). */
export function flagsText(row) {
  return (row.flags || [])
    .map((f) => experienceParts(row.experience, [f])[0] || t(FLAG_TEXT[f] || f))
    .join(", ");
}

/** An alert in the reader's language: its kind, then what was measured (its `facts`). An
 *  alert stored before alerts had facts keeps the server's English `detail`. */
export function alertText(alert) {
  const kind = t(ALERT_TEXT[alert.kind] || alert.kind);
  const facts = alert.facts;
  if (!facts) return alert.detail ? `${kind} (${alert.detail})` : kind;
  const parts = [];
  if (facts.where && WHERE_TEXT[facts.where]) parts.push(t(WHERE_TEXT[facts.where]));
  if (facts.uplink_loss !== undefined) {
    parts.push(t(N_("uplink loss %(value)s"), { value: percent(facts.uplink_loss) }));
  }
  if (facts.downlink_loss !== undefined) {
    parts.push(t(N_("downlink loss %(value)s"), { value: percent(facts.downlink_loss) }));
  }
  if (facts.rtt !== undefined) {
    parts.push(t(N_("round trip %(value)s ms"), { value: Math.round(facts.rtt * 1000) }));
  }
  if (facts.silent_for !== undefined) {
    parts.push(t(N_("nothing for %(seconds)s s"), { seconds: facts.silent_for }));
  }
  parts.push(...experienceParts(facts));
  return parts.length ? `${kind}: ${parts.join(", ")}` : kind;
}

export class AlertList {
  /**
   * @param {{list: HTMLElement, empty: HTMLElement, count: HTMLElement, model: object,
   *          time: (unix: number) => string, onAcknowledge: (id: number) => void,
   *          onOpen: (subject: string) => void}} options
   */
  constructor({ list, empty, count, model, time, onAcknowledge, onOpen }) {
    Object.assign(this, { list, empty, count, model, time, onAcknowledge, onOpen });
  }

  /** Open alerts, unacknowledged first; acknowledged ones stay, marked, until cleared. */
  render(canChair) {
    const alerts = this.model.openAlerts();
    const existing = new Map([...this.list.children].map((li) => [li.dataset.alertId, li]));
    alerts.forEach((alert, i) => {
      const key = String(alert.id);
      const li = existing.get(key) || this._item(alert);
      existing.delete(key);
      this._update(li, alert, canChair);
      if (this.list.children[i] !== li) this.list.insertBefore(li, this.list.children[i] || null);
    });
    for (const li of existing.values()) li.remove();
    this.empty.hidden = alerts.length > 0;
    this.count.textContent = String(alerts.filter((a) => !a.acknowledged_by).length);
  }

  _item(alert) {
    return h("li", { class: "alert-item", "data-alert-id": alert.id, "data-kind": alert.kind },
      h("time", { class: "raised" }), " ",
      h("button", { type: "button", class: "subject-button", onclick: () => this.onOpen(alert.subject) }), " ",
      h("span", { class: "what" }), " ",
      h("button", { type: "button", class: "primary", "data-action": "acknowledge", text: t("Acknowledge"),
        onclick: () => this.onAcknowledge(alert.id) }),
      h("span", { class: "acknowledged" }));
  }

  _update(li, alert, canChair) {
    const acknowledged = Boolean(alert.acknowledged_by);
    const set = (selector, text) => {
      const el = li.querySelector(selector);
      if (el.textContent !== text) el.textContent = text;
    };
    li.dataset.acknowledged = String(acknowledged);
    set(".raised", this.time(alert.raised_at));
    set(".subject-button", this.model.nameOf(alert.subject));
    set(".what", alertText(alert));
    set(".acknowledged", acknowledged ? t("Acknowledged by %(name)s", { name: alert.acknowledged_by }) : "");
    const button = li.querySelector('[data-action="acknowledge"]');
    button.hidden = acknowledged;
    button.disabled = !canChair;
  }
}

/** The alert beep and its toggle button (aria-pressed), remembered in localStorage. */
export class AlertSound {
  constructor(button, storageKey = "concord.health.sound") {
    this.button = button;
    this.key = storageKey;
    this.on = localStorage.getItem(storageKey) !== "off";
    this.beeps = 0; // new alerts signalled, heard or not (for tests)
    this.audio = null;
    button.addEventListener("click", () => {
      this.on = !this.on;
      localStorage.setItem(this.key, this.on ? "on" : "off");
      this.show();
      if (this.on) this._play(); // a user gesture: the audio context may start now
    });
    this.show();
  }

  show() {
    this.button.setAttribute("aria-pressed", String(this.on));
    this.button.textContent = this.on ? t("Alert sound: on") : t("Alert sound: off");
  }

  /** A new alert: a short beep when the sound is on. */
  beep() {
    this.beeps += 1;
    if (this.on) this._play();
  }

  _play() {
    try {
      this.audio = this.audio || new AudioContext();
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
      const tone = this.audio.createOscillator();
      const gain = this.audio.createGain();
      const now = this.audio.currentTime;
      tone.type = "sine";
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.25);
      tone.connect(gain).connect(this.audio.destination);
      tone.start(now);
      tone.stop(now + 0.3);
    } catch (err) {
      console.warn("could not play the alert sound", err);
    }
  }
}
