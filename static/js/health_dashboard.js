// The technicians' connection-health dashboard (server/templates/health_dashboard.html).
//
// It joins the room as "console" WITHOUT media (it never sends an offer), calls `health.watch`
// and then follows `health.report` (every 2 s) and `health.change`. The model lives in
// health_state.js; here rows are updated in place (keyed by subject), uPlot instances are
// reused with setData, and all redraws of a report happen in one requestAnimationFrame.

import { RoomClient } from "./protocol.js";
import { AlertList, AlertSound, alertText, flagsText } from "./health_alerts.js";
import { CHANGE_TEXT, HealthState, LEVELS, LEVEL_TEXT, ROOM_EVENT_TEXT, siteIdOf, whereKey }
  from "./health_state.js";
import { DETAIL_CHARTS, DetailChart, Sparkline } from "./health_charts.js";
import { $, config, errorText, formatDuration, h, sameId, showConnection, t } from "./ui.js";

const client = new RoomClient();
const model = new HealthState();
const rows = new Map(); // subject → {tr, cells, spark}
const dirty = new Set(); // subjects whose row must be redrawn
let room = null; // the last RoomState (who is muted)
let canChair = false;
let watching = false;
let alertsDirty = false;
let orderDirty = false;
let frame = 0;
let renderMs = 0; // the last render's duration (the benchmark reads it)
let selected = null; // the subject shown in the detail panel
let charts = null; // the detail panel's DetailCharts, made when it first opens
const locale = document.documentElement.lang || undefined;
const clock = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const sound = new AlertSound($("sound-toggle"));
const alertList = new AlertList({
  list: $("alert-list"), empty: $("alerts-empty"), count: $("alert-count"), model,
  time: (unix) => clockTime(unix),
  onAcknowledge: (id) => act(() => client.acknowledgeAlert(id)),
  onOpen: (subject) => openDetail(subject),
});

// For tests and the curious: the page's state.
window.__health = {
  client, model, rows,
  get beeps() { return sound.beeps; },
  get watching() { return watching; },
  get room() { return room; },
  get selected() { return selected; },
  sparkPoints: (subject) => (rows.has(subject) ? rows.get(subject).spark.points : 0),
  detailPoints: () => (charts ? charts.map((c) => c.points) : []),
  get charts() { return charts; },
  // For the benchmark (bench/dashboard.py): apply a report as if it came from the server,
  // and the time the last frame's rendering took.
  apply: (report) => changed(model.applyReport(report), false),
  get renderMs() { return renderMs; },
};

// --- formatting --------------------------------------------------------------------------------

const DASH = "–";
const known = (v) => v !== null && v !== undefined && !Number.isNaN(v);
// Units are in the column headings: ms, %, kbit/s, frames/s.
const ms = (s) => (known(s) ? String(Math.round(s * 1000)) : DASH);
const pct = (v) => (known(v) ? (v * 100).toFixed(v < 0.1 ? 1 : 0) : DASH);
const rate = (b) => (known(b) ? String(Math.round(b / 1000)) : DASH);
const fps = (v) => (known(v) ? v.toFixed(0) : DASH);
const clockTime = (unix) => (known(unix) ? clock.format(new Date(unix * 1000)) : DASH);
const pair = (a, b) => `${a} / ${b}`;

function levelText(level) {
  return t(LEVEL_TEXT[level] || level || "unknown");
}

/** A row's level as shown: a site that only receives is "listening" while it is not down. */
function rowLevelText(row) {
  const listening = (row.flags || []).includes("listening") && row.level !== "down";
  return listening ? t("listening") : levelText(row.level);
}

function sinceText(row) {
  if (!known(row.since)) return DASH;
  const now = known(model.at) ? Math.max(model.at, row.since) : row.since;
  return t("since %(time)s (%(duration)s)", { time: clockTime(row.since), duration: formatDuration(now - row.since) });
}

function rowName(row) {
  if (row.kind === "interpreter" && row.booth) return t("%(name)s (%(booth)s booth)", { name: row.name, booth: row.booth });
  return row.name || row.subject;
}

// --- joining -----------------------------------------------------------------------------------

async function start() {
  showConnection("connecting");
  try {
    await client.connect();
    await client.join(config.join); // handled by the "joined" listener; no offer, no media
  } catch (err) {
    showConnection("offline");
    showError(t("Could not join: %(reason)s", { reason: errorText(err) }));
  }
}

client.on("joined", async (answer) => {
  room = answer.room;
  canChair = Boolean(answer.can_chair);
  try {
    const snapshot = await client.watchHealth();
    watching = true;
    for (const subject of rows.keys()) if (!snapshot.rows.some((r) => r.subject === subject)) dirty.add(subject);
    changed(model.loadSnapshot(snapshot), false);
    showConnection("connected");
    showError("");
  } catch (err) {
    showError(t("Connection health is not available: %(reason)s", { reason: errorText(err) }));
  }
});
client.on("health.report", (report) => {
  if (watching) changed(model.applyReport(report), true);
});
client.on("health.change", (change) => {
  const subject = model.applyChange(change);
  if (subject) dirty.add(subject);
  alertsDirty = true;
  schedule();
});
client.on("room.event", (event) => {
  const subject = model.applyRoomEvent(event);
  if (subject) {
    dirty.add(subject);
    schedule();
  }
});
client.on("room.state", (state) => {
  room = state;
  for (const subject of rows.keys()) if (siteIdOf(subject) !== null) dirty.add(subject);
  schedule();
});
client.on("disconnect", () => {
  watching = false;
  showConnection("reconnecting");
});

function changed(result, withSound) {
  for (const subject of result.subjects) dirty.add(subject);
  for (const subject of result.removed) dirty.add(subject);
  alertsDirty = true;
  orderDirty = true;
  if (withSound && result.newAlerts.length) sound.beep();
  schedule();
}

function schedule() {
  if (!frame) frame = requestAnimationFrame(render);
}

function showError(text) {
  $("health-error").textContent = text;
}

async function act(action, done = "") {
  try {
    await action();
    $("health-status").textContent = done;
    showError("");
  } catch (err) {
    showError(errorText(err));
  }
}

// --- rendering ---------------------------------------------------------------------------------

function render() {
  const started = performance.now();
  frame = 0;
  const body = $("health-rows");
  for (const subject of dirty) {
    const row = model.rows.get(subject);
    if (row) updateRow(rows.get(subject) || createRow(row), row);
    else if (rows.has(subject)) {
      const gone = rows.get(subject);
      gone.spark.destroy();
      gone.tr.remove();
      rows.delete(subject);
      if (selected === subject) closeDetail();
    }
  }
  if (orderDirty) {
    model.sortedRows().forEach((row, i) => {
      const tr = rows.get(row.subject).tr;
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
    });
  }
  $("health-empty").hidden = model.rows.size > 0;
  $("health-summary").textContent = LEVELS.slice().reverse()
    .map((level) => `${levelText(level)}: ${[...model.rows.values()].filter((r) => r.level === level).length}`)
    .join(" · ");
  if (alertsDirty) alertList.render(canChair);
  if (selected && dirty.has(selected)) updateDetail();
  dirty.clear();
  alertsDirty = false;
  orderDirty = false;
  renderMs = performance.now() - started;
}

function createRow(row) {
  const subject = row.subject;
  const cell = (name) => h("td", { class: name });
  const cells = {
    name: h("td", { class: "name" }, h("button", {
      type: "button", class: "subject-button", "aria-controls": "health-detail",
      "aria-expanded": "false", onclick: () => openDetail(subject),
    })),
    state: h("td", { class: "state" }, h("span", { class: "level" }), h("span", { class: "since" })),
  };
  for (const name of ["score", "rtt", "loss", "jitter", "bitrate", "fps"]) cells[name] = cell(name);
  cells.trouble = h("td", { class: "trouble" }, h("span", { class: "where" }), h("span", { class: "flags" }));
  cells.spark = h("td", { class: "spark" });
  cells.actions = h("td", { class: "actions" });
  const tr = h("tr", { "data-subject": subject, "data-kind": row.kind || "" }, ...Object.values(cells));
  const siteId = siteIdOf(subject);
  if (siteId !== null) {
    const button = (action, text, onclick, extra = {}) => h("button", {
      type: "button", "data-action": action, text, onclick, ...extra });
    const name = () => model.nameOf(subject);
    cells.actions.append(
      button("keyframe", t("Key frame"), () => act(() => client.requestKeyframe(siteId),
        t("A key frame was asked of %(site)s.", { site: name() })), { title: t("Ask the camera for a key frame") }),
      button("mute", t("Mute"), () => act(() => client.mute(siteId, !isMuted(siteId)))),
      button("rejoin", t("Ask to rejoin"), () => act(() => client.askRejoin(siteId),
        t("%(site)s was asked to rejoin.", { site: name() }))),
      button("remove", t("Remove"), () => {
        if (window.confirm(t("Remove %(site)s from the room?", { site: name() }))) {
          act(() => client.remove(siteId));
        }
      }, { class: "danger" }));
  }
  const entry = { tr, cells, spark: new Sparkline(cells.spark) };
  rows.set(subject, entry);
  $("health-rows").append(tr);
  return entry;
}

function isMuted(siteId) {
  const site = room && (room.sites || []).find((s) => sameId(s.site_id, siteId));
  return Boolean(site && site.muted);
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function updateRow(entry, row) {
  const { tr, cells } = entry;
  const up = row.uplink || {};
  const down = row.downlink || {};
  tr.dataset.level = row.level;
  tr.dataset.where = row.where || "";
  tr.classList.toggle("selected", selected === row.subject);
  const name = cells.name.firstChild;
  setText(name, rowName(row));
  name.setAttribute("aria-expanded", String(selected === row.subject));
  const level = cells.state.firstChild;
  level.dataset.level = row.level;
  setText(level, rowLevelText(row));
  setText(cells.score, known(row.score) ? String(row.score) : DASH);
  setText(cells.rtt, ms(row.rtt));
  setText(cells.loss, pair(pct(up.loss), pct(down.loss)));
  setText(cells.jitter, pair(ms(up.jitter), ms(down.jitter)));
  setText(cells.bitrate, pair(rate(up.bitrate), rate(down.bitrate)));
  setText(cells.fps, fps(row.frame_rate));
  setText(cells.state.lastChild, sinceText(row));
  const where = whereKey(row);
  setText(cells.trouble.firstChild, where ? t(where) : "");
  setText(cells.trouble.lastChild, flagsText(row));
  const siteId = siteIdOf(row.subject);
  if (siteId !== null) {
    const muted = isMuted(siteId);
    const mute = cells.actions.querySelector('[data-action="mute"]');
    setText(mute, muted ? t("Unmute") : t("Mute"));
    mute.setAttribute("aria-pressed", String(muted));
    for (const b of cells.actions.querySelectorAll("button")) b.disabled = !canChair;
    cells.actions.querySelector('[data-action="keyframe"]').disabled ||= row.level === "down";
  }
  entry.spark.update(model.scoreSeries(row.subject), row.level);
  tr.dataset.points = String(entry.spark.points);
}

// --- the detail panel --------------------------------------------------------------------------

function openDetail(subject) {
  if (!model.rows.has(subject)) return;
  const previous = selected;
  selected = subject;
  $("health-detail").hidden = false;
  if (!charts) {
    const holder = $("detail-charts");
    const width = Math.max(280, holder.clientWidth - 8);
    charts = DETAIL_CHARTS.map((spec) => {
      const box = h("div", { class: "detail-chart", "data-chart": spec.key });
      holder.append(box);
      return new DetailChart(box, spec, width);
    });
  }
  for (const s of [previous, subject]) if (s) dirty.add(s);
  updateDetail();
  schedule();
  $("detail-title").focus();
}

function closeDetail() {
  const previous = selected;
  selected = null;
  $("health-detail").hidden = true;
  if (previous && rows.has(previous)) {
    dirty.add(previous);
    schedule();
    rows.get(previous).cells.name.firstChild.focus();
  }
}

function updateDetail() {
  const row = model.rows.get(selected);
  if (!row) return;
  const panel = $("health-detail");
  panel.dataset.subject = selected;
  panel.dataset.level = row.level;
  setText($("detail-title"), rowName(row));
  const where = whereKey(row);
  setText($("detail-status"), [rowLevelText(row), where ? t(where) : "",
    row.connection ? t("connection: %(state)s", { state: row.connection }) : ""].filter(Boolean).join(" · "));
  for (const chart of charts) chart.update(model, selected);
  const list = $("detail-timeline");
  const items = model.timeline(selected).map((entry) => h("li", { "data-type": entry.type },
    h("time", { text: clockTime(entry.at) }), " ", h("span", { text: changeText(entry) })));
  list.replaceChildren(...items);
  $("detail-timeline-empty").hidden = items.length > 0;
}

function changeText(entry) {
  const data = entry.data || {};
  const template = CHANGE_TEXT[entry.type];
  if (entry.type === "room") return t(ROOM_EVENT_TEXT[data.event] || data.event);
  if (!template) return entry.type;
  if (entry.type === "level") {
    const text = t(template, { from: data.from ? levelText(data.from) : DASH, to: levelText(data.to) });
    const where = data.where && data.to !== "good" ? whereKey({ level: data.to, where: data.where }) : null;
    return where ? `${text} · ${t(where)}` : text;
  }
  if (entry.type === "connection") return t(template, { from: data.from || DASH, to: data.to || DASH });
  return t(template, { alert: alertText(data), name: data.acknowledged_by || "" });
}

// --- wiring ------------------------------------------------------------------------------------

$("detail-close").addEventListener("click", closeDetail);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && selected) closeDetail();
});
window.addEventListener("resize", () => {
  if (!charts) return;
  const width = Math.max(280, $("detail-charts").clientWidth - 8);
  for (const chart of charts) chart.resize(width);
});
start();
