// The site check page (server/templates/site_check.html): camera, microphone and speaker
// steps, then the 20-second loopback call (check_run.js) and the stored result.
//
// Nothing starts before "Start the check": the click is the user gesture browsers want before
// they play the speaker's tone.

import { RoomClient } from "./protocol.js";
import { CheckRun, openDevices } from "./check_run.js";
import { startMeter } from "./meter.js";
import { $, attachTrack, config, errorText, h, showConnection, t } from "./ui.js";

const root = $("site-check");
const client = new RoomClient();
const SILENCE = 0.03; // a meter level above this is sound
const TONE_HZ = 660;
const TONE_SECONDS = 1.2;

/** Each failed step of a Check in words (as on the readiness board), and what to do. */
const STEPS = {
  camera: "camera",
  microphone: "microphone",
  speaker: "speaker",
  "network:loss": "packet loss",
  "network:round_trip": "round trip",
  "network:jitter": "jitter",
  "network:bitrate": "bitrate too low",
  "network:connection": "no connection",
};
const ADVICE = {
  camera: "Camera: check that it is plugged in, not used by another program, and allowed for this page in the browser.",
  microphone: "Microphone: check that it is plugged in, not muted, and allowed for this page in the browser.",
  speaker: "Speaker: turn the speakers on, turn the volume up and choose the right output in the system's sound settings.",
  "network:loss": "Packet loss: use a wired connection instead of Wi-Fi, or move closer to the Wi-Fi access point.",
  "network:round_trip": "Round trip too long: use a wired connection and avoid VPNs and satellite links.",
  "network:jitter": "Jitter: use a wired connection and stop other traffic on this network during the conference.",
  "network:bitrate": "Bitrate too low: close other uploads (cloud backups, other video calls) or ask for more upload bandwidth.",
  "network:connection": "No connection: the network blocks the call; ask its administrator to allow UDP traffic to Concord.",
};
const BADGES = { waiting: "Waiting", running: "Checking…", ok: "Working", failed: "Failed", skipped: "Skipped" };

const devices = { camera: "skipped", microphone: "skipped", speaker: "skipped" };
let run = null;
let meter = null;
let tones = null; // the AudioContext for the speaker's tone
let micPeak = 0;
let cameraFrames = false;
let answerSpeaker = null;
const speakerAnswered = new Promise((resolve) => { answerSpeaker = resolve; });

// For tests and for the curious.
window.concord = {
  client,
  devices,
  result: null,
  get run() { return run; },
  get phase() { return root.dataset.phase; },
};

const dateTime = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
  { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" });
const ms = (seconds) => (typeof seconds === "number" ? String(Math.round(seconds * 1000)) : "—");
const percent = (ratio) => (typeof ratio === "number" ? (ratio * 100).toFixed(1) : "—");
const byWhom = (by) => (String(by).startsWith("guest:") ? t("the site's invitation link") : by);
const kbits = (bits) => (typeof bits === "number" ? String(Math.round(bits / 1000)) : "—");

function setStep(name, result, text = null) {
  const step = $(`step-${name}`);
  step.dataset.result = result;
  step.querySelector(".step-badge").textContent = t(BADGES[result]);
  if (text !== null) step.querySelector(".step-status").textContent = text;
}

/** A stored Check (check.start's `last`, check.finish's `check`) in words, with advice. */
function renderCheck(container, check) {
  container.replaceChildren();
  if (!check) {
    container.append(h("p", { class: "muted", text: t("This site has not been checked yet.") }));
    return;
  }
  const steps = check.failed.map((key) => t(STEPS[key] || key)).join(", ");
  container.dataset.result = check.passed ? "passed" : "failed";
  container.append(
    h("p", { class: "verdict" }, h("span", {
      class: `badge result-${check.passed ? "passed" : "failed"}`,
      text: check.passed ? t("Passed") : t("Failed: %(steps)s", { steps }),
    })),
    h("p", { class: "muted", text: t("Checked %(time)s by %(who)s",
      { time: dateTime.format(new Date(check.at)), who: byWhom(check.by) }) }),
    h("p", { text: t("Round trip %(rtt)s ms · loss %(loss)s · sent %(bitrate)s kbit/s",
      { rtt: ms(check.rtt), loss: `${percent(check.loss)} %`, bitrate: kbits(check.bitrate) }) }));
  const advice = check.failed.filter((key) => ADVICE[key]);
  if (advice.length) {
    container.append(h("ul", { class: "advice" },
      ...advice.map((key) => h("li", { "data-step": key, text: t(ADVICE[key]) }))));
  }
}

// --- the device steps ------------------------------------------------------------------------

function startCamera(track, error) {
  if (!track) {
    devices.camera = "failed";
    setStep("camera", "failed", t("No picture from the camera (%(error)s).", { error }));
    return;
  }
  const preview = $("camera-preview");
  preview.srcObject = new MediaStream([track]);
  const seen = () => {
    cameraFrames = true;
    devices.camera = "ok";
    setStep("camera", "ok", t("The camera sends a picture."));
  };
  setStep("camera", "running", t("Checking…"));
  if (preview.requestVideoFrameCallback) preview.requestVideoFrameCallback(seen);
  else preview.addEventListener("loadeddata", seen, { once: true });
}

function startMicrophone(track, error) {
  if (!track) {
    devices.microphone = "failed";
    setStep("microphone", "failed", t("No microphone (%(error)s).", { error }));
    return;
  }
  setStep("microphone", "running", t("Speak: the bar should move."));
  meter = startMeter(new MediaStream([track]), (level) => {
    $("check-mic-level").value = level;
    micPeak = Math.max(micPeak, level);
    if (level > SILENCE && devices.microphone !== "ok") {
      devices.microphone = "ok";
      setStep("microphone", "ok", t("The microphone picks up sound."));
    }
  });
  if (meter) meter.context.resume().catch(() => {});
}

function playTone() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  tones = tones || new Context();
  tones.resume().catch(() => {});
  const oscillator = tones.createOscillator();
  const gain = tones.createGain();
  oscillator.frequency.value = TONE_HZ;
  gain.gain.setValueAtTime(0.25, tones.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, tones.currentTime + TONE_SECONDS);
  oscillator.connect(gain).connect(tones.destination);
  oscillator.start();
  oscillator.stop(tones.currentTime + TONE_SECONDS);
}

function answer(heard) {
  devices.speaker = heard ? "ok" : "failed";
  setStep("speaker", heard ? "ok" : "failed",
    heard ? t("You heard the tone.") : t("You did not hear the tone."));
  answerSpeaker();
}

// --- the network step ------------------------------------------------------------------------

function showFigures({ elapsed, duration, figures }) {
  $("network-progress").value = elapsed;
  const left = Math.max(0, Math.ceil(duration - elapsed));
  setStep("network", "running", t("Testing: %(seconds)s s left", { seconds: left }));
  $("figure-rtt").textContent = ms(figures.rtt);
  $("figure-loss").textContent = percent(figures.loss);
  $("figure-up").textContent = kbits(figures.bitrate_up);
  $("figure-down").textContent = kbits(figures.bitrate_down);
}

function fail(err) {
  root.dataset.phase = "error";
  $("check-error").textContent = t("The check could not run: %(reason)s", { reason: errorText(err) });
  if (run) run.close();
}

async function start() {
  $("start-check").disabled = true;
  playTone(); // inside the click: browsers allow sound from here on
  root.dataset.phase = "running";
  showConnection("connecting");
  let started;
  try {
    await client.connect();
    started = await client.startCheck(config.conference.id, config.site.id);
  } catch (err) {
    showConnection("offline");
    $("start-check").disabled = false;
    fail(err);
    return;
  }
  showConnection("connected");
  renderCheck($("previous-check"), started.last);
  $("check-intro").hidden = true;
  $("check-steps").hidden = false;
  for (const name of ["camera", "microphone", "speaker", "network"]) setStep(name, "waiting", "");

  const found = await openDevices();
  startCamera(found.video, found.errors.video);
  startMicrophone(found.audio, found.errors.audio);
  setStep("speaker", "running", t("A tone is playing: did you hear it?"));
  playTone();

  setStep("network", "running", t("Connecting to Concord…"));
  $("network-progress").max = started.duration;
  run = new CheckRun({
    client,
    iceServers: started.ice_servers || [],
    tracks: { video: found.video, audio: found.audio },
    duration: started.duration,
    onTrack: (slot, track) => { if (slot === "echo.video") attachTrack($("echo-video"), track); },
    onSample: showFigures,
  });
  let measured;
  try {
    measured = await run.run();
  } catch (err) {
    fail(err);
    return;
  }
  // A device step not passed by now failed: no frame, or silence for the whole test.
  if (found.video && !cameraFrames && measured.frames_sent > 0) devices.camera = "ok";
  if (found.video && devices.camera !== "ok") {
    devices.camera = "failed";
    setStep("camera", "failed", t("The camera gave no picture during the test."));
  }
  if (found.audio && devices.microphone !== "ok") {
    devices.microphone = (measured.audio_peak || 0) > 0.001 ? "ok" : "failed";
    if (devices.microphone === "failed") {
      setStep("microphone", "failed", t("The microphone stayed silent for the whole test."));
    }
  }
  setStep("network", "running", t("The network test is over."));
  if (devices.speaker === "skipped") {
    $("step-speaker").querySelector(".step-status").textContent =
      t("Answer the speaker question to finish.");
  }
  await speakerAnswered;
  await finish(measured);
}

async function finish(measured) {
  setStep("network", "running", t("Saving the result…"));
  let stored;
  try {
    stored = await client.finishCheck({
      devices: { ...devices },
      browser: measured.figures,
      user_agent: navigator.userAgent.slice(0, 400),
    });
  } catch (err) {
    fail(err);
    return;
  }
  freeze($("echo-video"));
  run.close();
  if (meter) meter.stop();
  const check = stored.check;
  window.concord.result = check;
  const networkFailed = check.failed.filter((key) => key.startsWith("network:"));
  setStep("network", networkFailed.length ? "failed" : "ok", networkFailed.length
    ? networkFailed.map((key) => t(STEPS[key] || key)).join(", ")
    : t("The network test is over."));
  const steps = check.failed.map((key) => t(STEPS[key] || key)).join(", ");
  renderCheck($("check-result"), check);
  $("check-result").prepend(h("p", { class: "summary", text: check.passed
    ? t("This site is ready for the conference.")
    : t("This site is not ready: %(steps)s.", { steps }) }));
  $("check-done").hidden = false;
  root.dataset.phase = "done";
  $("done-title").focus();
  client.close();
  $("connection").hidden = true; // the check is over: no connection is expected
}

/** Keep the echoed picture's last frame on screen once the call is closed. */
function freeze(video) {
  if (!video.videoWidth) return;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  video.poster = canvas.toDataURL("image/jpeg", 0.8);
  video.srcObject = null;
}

renderCheck($("previous-check"), config.last);
$("start-check").addEventListener("click", start);
$("speaker-yes").addEventListener("click", () => answer(true));
$("speaker-no").addEventListener("click", () => answer(false));
$("speaker-again").addEventListener("click", playTone);
$("check-again").addEventListener("click", () => window.location.reload());
