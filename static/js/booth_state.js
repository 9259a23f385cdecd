// The interpreter console's reading of RoomState (docs/signalling.md, "Interpretation") and its
// on-air clock. No DOM code: booth.js shows what these functions say.

/** Interpreter ids may arrive as strings ("interpreter:5") or numbers: compare as strings. */
export const sameInterpreter = (a, b) => a !== null && a !== undefined && String(a) === String(b);

/** The booth of `language` in RoomState.interpretation, or null. */
export function findBooth(room, language) {
  const booths = (room && room.interpretation && room.interpretation.booths) || [];
  return booths.find((b) => b.language === language) || null;
}

/**
 * Where the on-air button stands for interpreter `me` in `booth`:
 *   "off"        nobody is on air: the button puts me on air
 *   "on"         I am on air: the button takes me off air
 *   "asked"      I am on air and a partner asks to take over (the "Hand over" button shows)
 *   "partner"    a partner is on air: the button asks them for a handover
 *   "requested"  a partner is on air and I have asked to take over: waiting for them
 */
export function airState(booth, me) {
  if (!booth || booth.on_air === null || booth.on_air === undefined) return "off";
  if (sameInterpreter(booth.on_air, me)) {
    return booth.handover_to !== null && booth.handover_to !== undefined ? "asked" : "on";
  }
  return sameInterpreter(booth.handover_to, me) ? "requested" : "partner";
}

/** An interpreter's name from the booth's list (or the id when the list does not have it). */
export function interpreterName(booth, id) {
  const found = booth && (booth.interpreters || []).find((i) => sameInterpreter(i.id, id));
  return found && found.name ? found.name : String(id);
}

/**
 * What `source.audio` carries for me: "floor" or the language of the booth I relay from. With
 * "auto" it is the booth's own route (`booth.hears`); with a choice of mine it mirrors the server
 * (a relay booth with nobody on air, or switched out, gives the floor).
 */
export function heardSource(room, booth, chosen) {
  if (!booth) return "floor";
  if (!chosen || chosen === "auto") return booth.hears || "floor";
  if (chosen === "floor") return "floor";
  const relay = findBooth(room, chosen);
  if (!relay || relay.on_air === null || relay.on_air === undefined || relay.switched_out) {
    return "floor";
  }
  return chosen;
}

/**
 * The floor speaks a language this booth does not work from, and nobody relays it: the
 * interpreter hears the floor anyway (better than silence) and should know why.
 */
export function relayMissing(room, booth, heard) {
  const floor = room && room.interpretation ? room.interpretation.floor_language : null;
  if (!booth || !floor || floor === booth.language || heard !== "floor") return false;
  return !(booth.works_from || []).includes(floor);
}

/** The server's clock minus the browser's, in ms (from RoomState.server_time), or 0. */
export function clockSkewMs(room) {
  if (!room || room.server_time === undefined || room.received_at === undefined) return 0;
  return (room.server_time - room.received_at) * 1000;
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const localDay = (ms) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
};

/**
 * Time on air: this turn (since I last went on air) and the total today. Kept in
 * localStorage, so a reload or a reconnection in the middle of a turn does not reset it.
 */
export class AirClock {
  /** @param {{storage?: Storage | null, key: string, now?: () => number}} options */
  constructor({ storage = null, key, now = () => Date.now() }) {
    this.storage = storage;
    this.key = key;
    this.now = now;
    const saved = this._load();
    const today = localDay(this.now());
    this.day = saved && saved.day === today ? saved.day : today;
    this.totalMs = saved && saved.day === today ? saved.totalMs || 0 : 0;
    this.since = saved && saved.since ? saved.since : null; // ms, the current turn's start
    this.seen = saved && saved.seen ? saved.seen : null; // ms, last seen on air
  }

  _load() {
    try {
      return this.storage ? JSON.parse(this.storage.getItem(this.key) || "null") : null;
    } catch (err) {
      return null;
    }
  }

  _save() {
    if (!this.storage) return;
    const value = { day: this.day, totalMs: this.totalMs, since: this.since, seen: this.seen };
    try {
      this.storage.setItem(this.key, JSON.stringify(value));
    } catch (err) {
      // Private browsing or a full storage: the clock still runs for this page.
    }
  }

  get onAir() {
    return this.since !== null;
  }

  /**
   * On air or not, as RoomState says. `startedAt` (ms, browser clock) is when the turn began,
   * when the page knows it (from the room event); otherwise now.
   */
  update(onAir, startedAt = null) {
    const now = this.now();
    this._rollover(now);
    if (onAir && this.since === null) {
      this.since = startedAt !== null && startedAt <= now && now - startedAt < 60000 ? startedAt : now;
      this.seen = now;
      this._save();
    } else if (!onAir && this.since !== null) {
      // A turn that ended while this page was away counts until it was last seen on air.
      const end = this.seen !== null && now - this.seen > 15000 ? this.seen : now;
      this.totalMs += Math.max(0, end - this.since);
      this.since = null;
      this.seen = null;
      this._save();
    } else if (onAir && (this.seen === null || now - this.seen > 5000)) {
      this.seen = now;
      this._save();
    }
  }

  _rollover(now) {
    const today = localDay(now);
    if (today === this.day) return;
    this.day = today;
    this.totalMs = 0;
    if (this.since !== null) this.since = Math.max(this.since, new Date(now).setHours(0, 0, 0, 0));
  }

  /** Seconds on air in this turn (0 when off air). */
  turnSeconds() {
    return this.since === null ? 0 : Math.max(0, this.now() - this.since) / 1000;
  }

  /** Seconds on air today, this turn included. */
  todaySeconds() {
    this._rollover(this.now());
    return (this.totalMs / 1000) + this.turnSeconds();
  }
}
