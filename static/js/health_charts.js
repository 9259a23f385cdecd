// uPlot charts of the health dashboard (uPlot from npm, served under /vendor/uplot/): a small
// sparkline per row and the detail panel's full-size charts. Instances are made once and fed
// with setData; health_state.js `series()` gives the columns.

import uPlot from "/vendor/uplot/uPlot.esm.js";
import { t } from "./ui.js";

const N_ = (text) => text;

export const LEVEL_COLOURS = Object.freeze({
  good: "#067647", fair: "#b54708", poor: "#c4320a", down: "#b42318",
});
const FILLS = Object.freeze({
  good: "rgba(6, 118, 71, 0.12)", fair: "rgba(181, 71, 8, 0.15)", poor: "rgba(196, 50, 10, 0.18)",
  down: "rgba(180, 35, 24, 0.2)",
});
const COLOURS = ["#0b5cad", "#c4320a", "#6941c6"];
const percent = (v) => v * 100;
const millis = (v) => v * 1000;
const kbits = (v) => v / 1000;

/** The detail panel's charts: fields of a history point, scaled, with a unit. */
export const DETAIL_CHARTS = Object.freeze([
  { key: "loss", title: N_("Packet loss (%)"), fields: ["up_loss", "down_loss"],
    labels: [N_("uplink"), N_("downlink")], scale: { up_loss: percent, down_loss: percent }, min: 5 },
  { key: "rtt", title: N_("Round trip (ms)"), fields: ["rtt"], labels: [N_("round trip")],
    scale: { rtt: millis }, min: 100 },
  { key: "jitter", title: N_("Jitter (ms)"), fields: ["jitter"], labels: [N_("jitter")],
    scale: { jitter: millis }, min: 20 },
  { key: "bitrate", title: N_("Bitrate (kbit/s)"), fields: ["up_bitrate", "down_bitrate"],
    labels: [N_("uplink"), N_("downlink")], scale: { up_bitrate: kbits, down_bitrate: kbits }, min: 100 },
  { key: "frame_rate", title: N_("Frame rate (frames/s)"), fields: ["frame_rate"],
    labels: [N_("frame rate")], scale: {}, min: 30 },
]);

/** A y range from 0 to at least `min` (a flat good line stays low, not mid-chart). */
const rangeFrom0 = (min) => (u, dataMin, dataMax) => [0, Math.max(min, (dataMax || 0) * 1.15)];
const WINDOW_SECONDS = 300;
/** The last 5 minutes, ending with the newest point. */
const lastMinutes = (u, dataMin, dataMax) => (dataMax === null || dataMax === undefined
  ? [Date.now() / 1000 - WINDOW_SECONDS, Date.now() / 1000] : [dataMax - WINDOW_SECONDS, dataMax]);
const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined,
  { maximumFractionDigits: 1, notation: "compact" });

/** A sparkline of the score (0–100) over the last 5 minutes, in `container`. */
export class Sparkline {
  constructor(container, { width = 120, height = 32 } = {}) {
    this.level = "good";
    this.points = 0;
    this.plot = new uPlot({
      width, height,
      class: "sparkline",
      pxAlign: false,
      cursor: { show: false },
      legend: { show: false },
      select: { show: false },
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: LEVEL_COLOURS.good, width: 1.5, fill: FILLS.good, points: { show: false } }],
    }, [[], []], container);
  }

  /** New columns [times, scores]; the line takes the row's level colour. */
  update(data, level) {
    if (level !== this.level && LEVEL_COLOURS[level]) {
      this.level = level;
      const series = this.plot.series[1];
      series.stroke = () => LEVEL_COLOURS[level];
      series.fill = () => FILLS[level];
    }
    this.points = data[0].length;
    this.plot.setData(data);
  }

  destroy() {
    this.plot.destroy();
  }
}

/** One full-size chart of the detail panel. */
export class DetailChart {
  constructor(container, spec, width) {
    this.spec = spec;
    this.points = 0;
    const series = [{}, ...spec.fields.map((field, i) => ({
      label: t(spec.labels[i]),
      stroke: COLOURS[i % COLOURS.length],
      width: 1.5,
      spanGaps: false,
      value: (u, v) => (v === null || v === undefined ? "–" : v.toFixed(v < 10 ? 1 : 0)),
    }))];
    this.plot = new uPlot({
      title: t(spec.title),
      width, height: 150,
      scales: { x: { time: true, range: lastMinutes }, y: { range: rangeFrom0(spec.min) } },
      axes: [{}, { size: 56, values: (u, splits) => splits.map((v) => numbers.format(v)) }],
      series,
    }, [[], ...spec.fields.map(() => [])], container);
  }

  update(state, subject) {
    const data = state.series(subject, this.spec.fields, this.spec.scale);
    this.points = data[0].length;
    this.plot.setData(data);
  }

  resize(width) {
    this.plot.setSize({ width, height: 150 });
  }

  destroy() {
    this.plot.destroy();
  }
}
