// The connection-health dashboard's model (docs/signalling.md, "Connection health"). No DOM
// code here: health_dashboard.js renders it.
//
// It merges the `health.watch` snapshot with the `health.report` pushes (every 2 s) and the
// `health.change` acknowledgements: the latest row per subject ("site:<id>" or
// "interpreter:<user id>"), the last 5 minutes of points per subject (the same compact points
// as server/monitoring/hub.py), the open alerts and each subject's event timeline. Every
// `apply*` method returns what changed, so the page redraws only those rows.

const N_ = (text) => text; // marks UI text translated later with t() (the template lists it)

/** Points kept per subject: 5 minutes at one every 2 s. */
export const HISTORY = 150;
/** Timeline entries kept per subject. */
export const TIMELINE = 200;

/** Worst first. */
export const LEVELS = Object.freeze(["down", "poor", "fair", "good"]);

export const LEVEL_TEXT = Object.freeze({
  good: N_("good"), fair: N_("fair"), poor: N_("poor"), down: N_("down"),
});

/** Where the trouble is, while a row is not good. */
export const WHERE_TEXT = Object.freeze({
  uplink: N_("Trouble on the site's uplink"),
  downlink: N_("Trouble on the site's downlink"),
  both: N_("Trouble on the site's uplink and downlink"),
  server: N_("Trouble on Concord's server"),
});

export const FLAG_TEXT = Object.freeze({
  listening: N_("receives only (no camera or microphone)"),
  frozen_video: N_("camera frozen"),
  silent_microphone: N_("microphone silent"),
  frozen_received_video: N_("received video freezes"),
  concealed_audio: N_("received audio concealed"),
  reconnected: N_("reconnected"),
  limited_by_bandwidth: N_("sending limited by bandwidth"),
  limited_by_cpu: N_("sending limited by CPU"),
  limited_by_other: N_("sending limited"),
});

export const ALERT_TEXT = Object.freeze({
  poor: N_("Poor connection"),
  down: N_("Connection lost"),
  silent_on_air: N_("Silent on air"),
});

export const CHANGE_TEXT = Object.freeze({
  level: N_("Level: %(from)s → %(to)s"),
  connection: N_("Connection: %(from)s → %(to)s"),
  alert: N_("Alert raised: %(alert)s"),
  cleared: N_("Alert cleared: %(alert)s"),
  acknowledged: N_("Alert acknowledged by %(name)s: %(alert)s"),
});

/** Room events shown in a site's timeline, beside the health changes. */
export const ROOM_EVENT_TEXT = Object.freeze({
  "lobby.arrived": N_("Arrived in the lobby"),
  "lobby.admitted": N_("Admitted"),
  "lobby.refused": N_("Not admitted"),
  "site.connected": N_("Media connected"),
  "site.reconnecting": N_("Reconnecting"),
  "site.left": N_("Left the room"),
  "site.removed": N_("Removed"),
  "site.muted": N_("Muted"),
  "site.unmuted": N_("Unmuted"),
  "floor.granted": N_("Given the floor"),
  "floor.released": N_("Floor ended"),
});

/** The fields of a history point (besides `t`), as server/monitoring/hub.py `compact`. */
export const POINT_FIELDS = Object.freeze([
  "score", "rtt", "up_loss", "down_loss", "jitter", "up_bitrate", "down_bitrate", "frame_rate",
]);

/** One history point of a report row (server/monitoring/hub.py `compact`). */
export function compact(row) {
  const up = row.uplink || {};
  const down = row.downlink || {};
  const jitters = [up.jitter, down.jitter].filter((j) => j !== null && j !== undefined);
  return {
    t: row.at,
    level: row.level,
    score: row.score,
    rtt: row.rtt ?? null,
    up_loss: up.loss ?? null,
    down_loss: down.loss ?? null,
    jitter: jitters.length ? Math.max(...jitters) : null,
    up_bitrate: up.bitrate ?? null,
    down_bitrate: down.bitrate ?? null,
    frame_rate: row.frame_rate ?? null,
  };
}

export function levelRank(level) {
  const i = LEVELS.indexOf(level);
  return i < 0 ? LEVELS.length : i;
}

/** Worst first: down, poor, fair, good; then the lower score; then the name. */
export function compareRows(a, b) {
  return levelRank(a.level) - levelRank(b.level)
    || (a.score ?? 100) - (b.score ?? 100)
    || String(a.name || a.subject).localeCompare(String(b.name || b.subject));
}

/** The site id of a "site:<id>" subject, else null. */
export function siteIdOf(subject) {
  const [kind, id] = String(subject).split(":");
  return kind === "site" && /^\d+$/.test(id || "") ? Number(id) : null;
}

/** The wording key of where the trouble is (null while good or unknown). */
export function whereKey(row) {
  return row && row.level !== "good" && row.where ? WHERE_TEXT[row.where] || null : null;
}

export class HealthState {
  constructor({ historyLimit = HISTORY, timelineLimit = TIMELINE } = {}) {
    this.historyLimit = historyLimit;
    this.timelineLimit = timelineLimit;
    this.rows = new Map(); // subject → latest HealthRow
    this.history = new Map(); // subject → [point], oldest first
    this.timelines = new Map(); // subject → [{at, type, data}], newest first
    this.alerts = new Map(); // id → open Alert (acknowledged ones stay, marked)
    this.seenAlerts = new Set(); // every alert id ever shown: a new one makes a sound
    this.at = null;
  }

  /** The `health.watch` answer: replaces everything. */
  loadSnapshot(answer) {
    this.rows.clear();
    this.history.clear();
    this.alerts.clear();
    for (const row of answer.rows || []) this.rows.set(row.subject, row);
    for (const [subject, points] of Object.entries(answer.history || {})) {
      this.history.set(subject, points.slice(-this.historyLimit));
    }
    for (const row of this.rows.values()) {
      if (!this.history.has(row.subject)) this.history.set(row.subject, [compact(row)]);
    }
    for (const alert of answer.alerts || []) {
      this.alerts.set(alert.id, alert);
      this.seenAlerts.add(alert.id);
    }
    this.at = answer.at ?? null;
    return { subjects: new Set(this.rows.keys()), removed: new Set(), newAlerts: [] };
  }

  /**
   * A `health.report`: rows, open alerts and changes of one window.
   * @returns {{subjects: Set<string>, removed: Set<string>, newAlerts: object[]}}
   */
  applyReport(report) {
    const subjects = new Set();
    const removed = new Set();
    const present = new Set();
    for (const row of report.rows || []) {
      present.add(row.subject);
      subjects.add(row.subject);
      this.rows.set(row.subject, row);
      const points = this.history.get(row.subject) || [];
      const point = compact(row);
      const last = points[points.length - 1];
      if (!last || last.t === null || point.t === null || point.t > last.t) points.push(point);
      else points[points.length - 1] = point; // the same window again: keep the newest figures
      if (points.length > this.historyLimit) points.splice(0, points.length - this.historyLimit);
      this.history.set(row.subject, points);
    }
    for (const subject of [...this.rows.keys()]) {
      if (present.has(subject)) continue;
      this.rows.delete(subject);
      this.history.delete(subject);
      this.timelines.delete(subject);
      removed.add(subject);
    }
    const newAlerts = [];
    const open = new Map();
    for (const alert of report.alerts || []) {
      const known = this.alerts.get(alert.id);
      // An acknowledgement may reach us (health.change) before the next report carries it.
      open.set(alert.id, known && known.acknowledged_by && !alert.acknowledged_by
        ? { ...alert, acknowledged_by: known.acknowledged_by } : alert);
      if (!this.seenAlerts.has(alert.id)) {
        this.seenAlerts.add(alert.id);
        newAlerts.push(alert);
      }
    }
    this.alerts = open;
    for (const change of report.changes || []) {
      this._record(change, report.at);
      if (change.subject) subjects.add(change.subject);
    }
    for (const subject of removed) subjects.delete(subject);
    this.at = report.at ?? this.at;
    return { subjects, removed, newAlerts };
  }

  /** A `health.change` (an acknowledgement, at once). Returns the subject it concerns. */
  applyChange(change) {
    if (change.type === "acknowledged" && change.id !== undefined) {
      const alert = this.alerts.get(change.id);
      if (alert) this.alerts.set(change.id, { ...alert, acknowledged_by: change.acknowledged_by });
    }
    this._record(change, Date.now() / 1000);
    return change.subject || null;
  }

  /** A room event (`room.event`) of a site: into its timeline; the subject, or null. */
  applyRoomEvent(event) {
    if (!event || event.site_id === null || event.site_id === undefined) return null;
    if (!ROOM_EVENT_TEXT[event.type]) return null;
    const subject = `site:${event.site_id}`;
    const at = event.at ? Date.parse(event.at) / 1000 : Date.now() / 1000;
    this._record({ type: "room", subject, event: event.type }, at);
    return subject;
  }

  _record(change, at) {
    if (!change || !change.subject) return;
    const { type, subject, ...data } = change;
    let when = at;
    if (type === "alert" && data.raised_at) when = data.raised_at;
    if (type === "cleared" && data.cleared_at) when = data.cleared_at;
    const list = this.timelines.get(subject) || [];
    list.unshift({ at: when ?? Date.now() / 1000, type, data });
    if (list.length > this.timelineLimit) list.length = this.timelineLimit;
    this.timelines.set(subject, list);
  }

  /** Every row, worst first. */
  sortedRows() {
    return [...this.rows.values()].sort(compareRows);
  }

  /** Open alerts, the unacknowledged first, newest first within each group. */
  openAlerts() {
    return [...this.alerts.values()].sort((a, b) =>
      Number(Boolean(a.acknowledged_by)) - Number(Boolean(b.acknowledged_by))
      || (b.raised_at || 0) - (a.raised_at || 0));
  }

  points(subject) {
    return this.history.get(subject) || [];
  }

  /**
   * Columns for a chart (uPlot's data layout): [times, ...one array per field].
   * `scale` maps a field's value (e.g. loss 0–1 to %); missing values stay null (gaps).
   */
  series(subject, fields, scale = {}) {
    const points = this.points(subject);
    const columns = [points.map((p) => p.t)];
    for (const field of fields) {
      const f = scale[field];
      columns.push(points.map((p) => {
        const v = p[field];
        return v === null || v === undefined ? null : f ? f(v) : v;
      }));
    }
    return columns;
  }

  /** [times, scores] for a sparkline: a window spent down charts as 0, whatever its score. */
  scoreSeries(subject) {
    const points = this.points(subject);
    return [points.map((p) => p.t), points.map((p) => (p.level === "down" ? 0 : p.score ?? null))];
  }

  timeline(subject) {
    return this.timelines.get(subject) || [];
  }

  /** The display name of a subject (its row's name, else the subject). */
  nameOf(subject) {
    const row = this.rows.get(subject);
    return row && row.name ? row.name : subject;
  }
}
