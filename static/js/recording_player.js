// The playback page of a recording: the floor programme's <video>, a language's channel played
// over it in sync (the floor turned down, as on the site page), a sign-language interpreter's
// picture beside it in sync, and the timeline of agenda, floor and on-air marks to jump to. Offsets: a mark's `at` and a file's `starts_at` are
// seconds since the recording started; each file's time 0 is its own `starts_at`.

const FLOOR_LEVEL = 0.2; // the floor under an interpretation, as the site page's default
const DRIFT = 0.3; // seconds of drift between the two players before the channel is re-synced

const data = JSON.parse(document.getElementById("recording-player").textContent);
const strings = JSON.parse(document.getElementById("recording-strings").textContent);
const video = document.getElementById("recording-video");
const audio = document.getElementById("recording-language");
const select = document.getElementById("recording-language-select");
const sign = document.getElementById("recording-sign");
const signSelect = document.getElementById("recording-sign-select"); // only with a sign booth

function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(params[name] ?? ""));
}

const files = new Map(); // channel → the manifest's file (starts_at)
for (const file of data.files || []) files.set(file.name, file);
function startsAt(name) {
  const file = files.get(name);
  return file && typeof file.starts_at === "number" ? file.starts_at : 0;
}
const floorStart = startsAt("floor.webm");
// What follows the floor video: the chosen language's sound, the chosen sign language's
// picture; each {element, start} while one is chosen.
const followers = { language: null, sign: null };

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  return `${h}:${m}:${String(s % 60).padStart(2, "0")}`;
}

function siteName(id) {
  return data.sites[String(id)] || t("Site %(id)s", { id });
}

function describe(mark) {
  const language = mark.language || "";
  switch (`${mark.kind}:${mark.action}`) {
    case "floor:granted": return t("%(site)s has the floor", { site: siteName(mark.site_id) });
    case "floor:released": return t("The floor is released");
    case "floor:language": return t("Floor language: %(language)s", { language: language || "—" });
    case "on_air:on_air": return t("%(language)s booth: interpreter on air", { language });
    case "on_air:off_air": return t("%(language)s booth: off air", { language });
    case "on_air:handover": return t("%(language)s booth: handover", { language });
    case "agenda:start": return t("Session begins: %(title)s", { title: mark.title || "" });
    case "agenda:end": return t("Session ends: %(title)s", { title: mark.title || "" });
    default: return `${t(mark.kind)} ${mark.text || mark.title || ""}`.trim();
  }
}

function follow(follower, force) {
  const { element, start } = follower;
  const wanted = video.currentTime + floorStart - start;
  if (wanted < 0 || (element.duration && wanted > element.duration)) {
    element.pause();
    return;
  }
  if (force || Math.abs(element.currentTime - wanted) > DRIFT) element.currentTime = wanted;
  element.playbackRate = video.playbackRate;
  if (video.paused) element.pause();
  else if (element.paused) element.play().catch(() => {});
}

function syncChannel(force = false) {
  if (!video) return;
  for (const follower of Object.values(followers)) if (follower) follow(follower, force);
}

// Choose what follows the floor (`kind`: "language" or "sign") from its <select>'s option.
function choose(kind, element, option) {
  element.pause();
  if (!option || !option.value) {
    followers[kind] = null;
    element.removeAttribute("src");
    if (kind === "sign") element.hidden = true;
    if (kind === "language" && video) video.volume = 1;
    return;
  }
  followers[kind] = { element, start: startsAt(option.dataset.name) };
  element.src = option.dataset.url;
  if (kind === "sign") element.hidden = false;
  if (kind === "language" && video) video.volume = FLOOR_LEVEL;
  element.addEventListener("loadedmetadata", () => syncChannel(true), { once: true });
}

function drawMarks() {
  const list = document.getElementById("recording-marks");
  const marks = data.marks || [];
  document.getElementById("recording-no-marks").hidden = marks.length > 0;
  for (const mark of marks) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `mark mark-${mark.kind}`;
    button.dataset.at = String(mark.at);
    const time = document.createElement("time");
    time.textContent = clock(mark.at);
    button.append(time, document.createTextNode(describe(mark)));
    button.addEventListener("click", () => {
      if (!video) return;
      video.currentTime = Math.max(0, mark.at - floorStart);
      syncChannel(true);
      video.play().catch(() => {});
    });
    item.append(button);
    list.append(item);
  }
}

select.addEventListener("change", () => choose("language", audio, select.selectedOptions[0]));
if (signSelect) {
  signSelect.addEventListener("change", () => choose("sign", sign, signSelect.selectedOptions[0]));
}
if (video) {
  for (const event of ["play", "pause", "seeked", "ratechange"]) {
    video.addEventListener(event, () => syncChannel(event === "seeked"));
  }
  video.addEventListener("timeupdate", () => syncChannel());
}
drawMarks();
document.documentElement.dataset.playerReady = "true";
