// The playback page of a recording: the floor programme's <video>, a language's channel played
// over it in sync (the floor turned down, as on the site page), and the timeline of agenda,
// floor and on-air marks to jump to. Offsets: a mark's `at` and a file's `starts_at` are
// seconds since the recording started; each file's time 0 is its own `starts_at`.

const FLOOR_LEVEL = 0.2; // the floor under an interpretation, as the site page's default
const DRIFT = 0.3; // seconds of drift between the two players before the channel is re-synced

const data = JSON.parse(document.getElementById("recording-player").textContent);
const strings = JSON.parse(document.getElementById("recording-strings").textContent);
const video = document.getElementById("recording-video");
const audio = document.getElementById("recording-language");
const select = document.getElementById("recording-language-select");

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
let channel = null; // {name, start}

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

function syncChannel(force = false) {
  if (!channel || !video) return;
  const wanted = video.currentTime + floorStart - channel.start;
  if (wanted < 0 || (audio.duration && wanted > audio.duration)) {
    audio.pause();
    return;
  }
  if (force || Math.abs(audio.currentTime - wanted) > DRIFT) audio.currentTime = wanted;
  if (video.paused) audio.pause();
  else if (audio.paused) audio.play().catch(() => {});
}

function chooseLanguage(code) {
  const option = select.selectedOptions[0];
  if (!code || !option) {
    channel = null;
    audio.pause();
    audio.removeAttribute("src");
    if (video) video.volume = 1;
    return;
  }
  const name = `${code}.ogg`;
  channel = { name, start: startsAt(name) };
  audio.src = option.dataset.url;
  if (video) video.volume = FLOOR_LEVEL;
  audio.addEventListener("loadedmetadata", () => syncChannel(true), { once: true });
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

select.addEventListener("change", () => chooseLanguage(select.value));
if (video) {
  for (const event of ["play", "pause", "seeked", "ratechange"]) {
    video.addEventListener(event, () => {
      audio.playbackRate = video.playbackRate;
      syncChannel(event === "seeked");
    });
  }
  video.addEventListener("timeupdate", () => syncChannel());
}
drawMarks();
document.documentElement.dataset.playerReady = "true";
