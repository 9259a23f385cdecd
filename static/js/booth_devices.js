// The interpreter's own devices: the microphone with its cough key and latching mute, its level
// meter, and the camera of a sign-language booth. No DOM code: booth.js shows the state.
//
// Cough and mute disable the microphone track (a disabled track sends silence): no
// renegotiation, and the server keeps the interpreter on air.

import { startMeter } from "./meter.js";

export class BoothDevices {
  /** @param {{onLevel: (level: number) => void, onChange: () => void}} callbacks */
  constructor({ onLevel, onChange }) {
    this.onLevel = onLevel;
    this.onChange = onChange;
    this.stream = null;
    this.meter = null;
    this.error = null; // why there is no microphone (an Error's name), or null
    this.cameraError = null;
    this._cough = new Set(); // what holds the cough key: "key", "button"
    this.muted = false; // the latching mute
  }

  track(kind) {
    return this.stream ? this.stream.getTracks().find((t) => t.kind === kind) || null : null;
  }

  get microphone() {
    return this.track("audio");
  }

  get coughing() {
    return this._cough.size > 0;
  }

  async openMicrophone() {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      this.meter = startMeter(this.stream, this.onLevel);
    } catch (err) {
      this.stream = null;
      this.error = err && err.name ? err.name : String(err);
    }
    this._apply();
  }

  /** The camera of a sign-language booth, added to the stream; returns its track or null. */
  async openCamera() {
    if (this.track("video")) return this.track("video");
    try {
      const camera = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
      });
      if (!this.stream) this.stream = new MediaStream();
      for (const track of camera.getVideoTracks()) this.stream.addTrack(track);
    } catch (err) {
      this.cameraError = err && err.name ? err.name : String(err);
    }
    return this.track("video");
  }

  /** Browsers keep the meter stopped until the user interacts with the page. */
  resume() {
    if (this.meter && this.meter.context.state === "suspended") {
      this.meter.context.resume().catch(() => {});
    }
  }

  /** The cough key held (true) or let go (false) by `source` ("key" or "button"). */
  cough(source, down) {
    if (down) this._cough.add(source);
    else this._cough.delete(source);
    this._apply();
  }

  toggleMute() {
    this.muted = !this.muted;
    this._apply();
  }

  _apply() {
    const mic = this.microphone;
    if (mic) mic.enabled = !(this.muted || this.coughing);
    this.onChange();
  }

  stop() {
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.meter) this.meter.stop();
  }
}
