// The recording state on the room pages (site, console, booth): a red "● REC" with the time
// recorded so far, from the join answer's `recording` and the `recording.state` events
// (docs/signalling.md, "Recording"); on the console also the chair's Start/Stop buttons.

/** Seconds as m:ss or h:mm:ss. */
export function elapsedText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export class RecordingIndicator {
  /** @param {import("./protocol.js").RoomClient} client  @param {HTMLElement | null} element */
  constructor(client, element) {
    this.element = element;
    this.state = { recording: false, since: null, id: null };
    this.skew = 0; // server clock minus ours, in seconds
    this.timer = null;
    this.listeners = [];
    client.on("joined", (answer) => { if (answer && answer.recording) this.show(answer.recording); });
    client.on("recording.state", (state) => this.show(state));
  }

  /** Call `handler(state)` after every change. */
  onChange(handler) {
    this.listeners.push(handler);
  }

  show(state) {
    if (typeof state.server_time === "number") {
      const received = typeof state.received_at === "number" ? state.received_at : Date.now() / 1000;
      this.skew = state.server_time - received;
    }
    this.state = state;
    if (this.element) {
      this.element.hidden = !state.recording;
      this.element.dataset.recording = state.recording ? "true" : "false";
    }
    clearInterval(this.timer);
    if (state.recording) {
      this.tick();
      this.timer = setInterval(() => this.tick(), 1000);
    }
    for (const handler of this.listeners) handler(state);
  }

  tick() {
    if (!this.element || !this.state.since) return;
    const now = Date.now() / 1000 + this.skew;
    const seconds = now - Date.parse(this.state.since) / 1000;
    const out = this.element.querySelector("[data-recording-elapsed]");
    if (out) out.textContent = elapsedText(seconds);
  }
}

/** The console's buttons: enabled once joined as a chair, one of them shown at a time. */
export function recordingControls(client, indicator, start, stop, report) {
  if (!start || !stop) return;
  const update = (state) => {
    start.hidden = Boolean(state.recording);
    stop.hidden = !state.recording;
  };
  indicator.onChange(update);
  client.on("joined", (answer) => {
    start.disabled = stop.disabled = !(answer && answer.can_chair);
  });
  const act = (button, call) => button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await call();
    } catch (err) {
      const text = (start.dataset.error || "%(reason)s").replace("%(reason)s", err.detail || err.message);
      if (report) report(text);
    } finally {
      button.disabled = false;
    }
  });
  act(start, () => client.startRecording());
  act(stop, () => client.stopRecording());
}
