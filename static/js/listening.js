// What a listener hears of the interpretation, and the mix of it with the floor
// (docs/signalling.md, "Interpretation"). No DOM code besides the elements it is handed.
//
// How the mix is made, and why this way:
//   The server forwards three sounds to a site without decoding them: the chosen booth's
//   channel (slot interpretation.audio) and the floor (floor.audio, the floor holder, plus
//   hall.audio, the main hall). Each keeps its own <audio> element, playing unmuted, and the
//   mix is the elements' `volume`: the interpretation at 1.0, the floor elements at the
//   listener's floor level (default 20 %). The browser's audio output adds them up.
//   We do not route the sound itself through Web Audio (MediaStreamAudioSourceNode → GainNode →
//   destination, with muted elements) because in Chromium a remote WebRTC track only feeds Web
//   Audio while it is also attached to a media element, a muted element stops the receiver's
//   own audio statistics (getStats() audioLevel / totalAudioEnergy, which the technicians'
//   view and the browser test rely on), and a suspended AudioContext (no user gesture yet)
//   would silence everything, where a blocked element at least gets the "Turn on the sound"
//   button. Web Audio is used where it adds value: one analyser per channel, behind a GainNode
//   that follows the element's volume, drives the "what you hear" level meters.

export const DEFAULT_FLOOR_LEVEL = 20;
const METER_INTERVAL_MS = 100;

/**
 * What a listener who chose `language` hears, from RoomState.interpretation. Pure.
 *
 * Returns {mode, booth, reason}:
 *   mode "floor"    the listener chose the floor (or the booth is gone): the floor at 100 %
 *   mode "booth"    the booth's channel at full level, the floor underneath
 *   mode "fallback" no interpretation right now (reason "nobody_on_air" or "switched_out":
 *                   the floor speaks that language): the floor at 100 % meanwhile
 *   mode "sign"     a sign-language booth: its picture is shown, the floor is heard at 100 %
 */
export function hearing(interpretation, language) {
  const booths = (interpretation && interpretation.booths) || [];
  const booth = language ? booths.find((b) => b.language === language) : null;
  if (!booth) return { mode: "floor", booth: null, reason: null };
  if (booth.video) return { mode: "sign", booth, reason: null };
  if (booth.switched_out) return { mode: "fallback", booth, reason: "switched_out" };
  if (booth.on_air === null || booth.on_air === undefined) {
    return { mode: "fallback", booth, reason: "nobody_on_air" };
  }
  return { mode: "booth", booth, reason: null };
}

/**
 * The sign-language booth whose picture fills the sign.video slot: the chosen language's sign
 * booth, otherwise the first sign booth with someone on air (null when there is none).
 */
export function signBooth(interpretation, language) {
  const signs = ((interpretation && interpretation.booths) || []).filter((b) => b.video);
  return signs.find((b) => b.language === language)
    || signs.find((b) => b.on_air !== null && b.on_air !== undefined)
    || null;
}

/** The volumes (0–1) of the interpretation element and of the floor elements. Pure. */
export function volumes(mode, floorLevel) {
  if (mode === "booth") return { interpretation: 1, floor: clampLevel(floorLevel) / 100 };
  return { interpretation: 0, floor: 1 };
}

export function clampLevel(level) {
  const number = Number(level);
  if (!Number.isFinite(number)) return DEFAULT_FLOOR_LEVEL;
  return Math.min(100, Math.max(0, Math.round(number)));
}

/**
 * The listener's mix: sets the handed elements' volumes and drives the handed meters.
 *
 *   interpretation  the <audio> element of interpretation.audio
 *   floor           the <audio> elements of the floor (floor.audio, hall.audio)
 *   meters          optional {interpretation: <meter>, floor: <meter>} (value 0–1)
 */
export class Mixer {
  constructor({ interpretation, floor, meters = {} }) {
    this.interpretation = interpretation;
    this.floor = floor;
    this.meters = meters;
    this.mode = "floor";
    this.floorLevel = DEFAULT_FLOOR_LEVEL;
    this._context = null;
    this._taps = new Map(); // element → {stream, source, gain, analyser}
    this._timer = null;
    this._samples = null;
  }

  /** Apply what the listener hears (`mode` from hearing()) at `floorLevel` (0–100). */
  set(mode, floorLevel) {
    this.mode = mode;
    this.floorLevel = clampLevel(floorLevel);
    const v = volumes(mode, this.floorLevel);
    this.interpretation.volume = v.interpretation;
    for (const el of this.floor) el.volume = v.floor;
    for (const [el, tap] of this._taps) tap.gain.gain.value = el.volume;
  }

  /** Call after a track was attached to one of the elements (and after a user gesture). */
  refresh() {
    if (!this.meters.interpretation && !this.meters.floor) return;
    if (!window.AudioContext) return;
    if (!this._context) this._context = new AudioContext();
    this._context.resume().catch(() => {});
    for (const el of [this.interpretation, ...this.floor]) this._tap(el);
    if (!this._timer) this._timer = setInterval(() => this._measure(), METER_INTERVAL_MS);
  }

  _tap(el) {
    const stream = el.srcObject;
    const old = this._taps.get(el);
    if (old && old.stream === stream) return;
    if (old) old.source.disconnect();
    this._taps.delete(el);
    if (!stream || !stream.getAudioTracks().length) return;
    // The element's own stream: Chromium feeds Web Audio only from a track an element plays.
    const source = this._context.createMediaStreamSource(stream);
    const gain = this._context.createGain();
    gain.gain.value = el.volume;
    const analyser = this._context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(gain).connect(analyser); // an analyser is pulled without a destination
    this._taps.set(el, { stream, source, gain, analyser });
  }

  _level(elements) {
    let level = 0;
    for (const el of elements) {
      const tap = this._taps.get(el);
      if (!tap) continue;
      if (!this._samples || this._samples.length !== tap.analyser.fftSize) {
        this._samples = new Float32Array(tap.analyser.fftSize);
      }
      tap.analyser.getFloatTimeDomainData(this._samples);
      let sum = 0;
      for (const s of this._samples) sum += s * s;
      level = Math.max(level, Math.sqrt(sum / this._samples.length) * 4); // speech RMS ~0.05–0.25
    }
    return Math.min(1, level);
  }

  _measure() {
    if (this.meters.interpretation) this.meters.interpretation.value = this._level([this.interpretation]);
    if (this.meters.floor) this.meters.floor.value = this._level(this.floor);
  }

  close() {
    clearInterval(this._timer);
    this._timer = null;
    for (const tap of this._taps.values()) tap.source.disconnect();
    this._taps.clear();
    if (this._context) this._context.close().catch(() => {});
    this._context = null;
  }
}
