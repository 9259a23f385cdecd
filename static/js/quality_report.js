// The quality report's charts (server/templates/quality_report.html): per site and interpreter,
// the score and, below it, the packet loss and round trip over the conference. The server
// embeds per-minute averages (at most ~600 points a subject) in #quality-charts; uPlot comes
// from npm, served under /vendor/uplot/. Times are shown in the conference's time zone.

import uPlot from "/vendor/uplot/uPlot.esm.js";
import { config, t } from "./ui.js";
import { LEVEL_COLOURS } from "./health_charts.js";

const charts = JSON.parse(document.getElementById("quality-charts")?.textContent || "{}");
const zone = config.conference?.time_zone;
const locale = document.documentElement.lang || undefined;
const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
const HEIGHT = 160;

const inZone = zone ? (ts) => uPlot.tzDate(new Date(ts * 1000), zone) : undefined;
const shown = (u, v) => (v === null || v === undefined ? "–" : numbers.format(v));
const axis = (extra = {}) => ({ size: 56, values: (u, splits) => splits.map((v) => numbers.format(v)), ...extra });
const widthOf = (container) => Math.max(300, container.clientWidth || 600);

function scoreChart(container, data) {
  return new uPlot({
    title: t("Score"),
    width: widthOf(container), height: HEIGHT,
    tzDate: inZone,
    scales: { x: { time: true }, y: { range: [0, 100] } },
    axes: [{}, axis()],
    series: [{}, {
      label: t("Score"), stroke: LEVEL_COLOURS.good, width: 1.5, spanGaps: false, value: shown,
      fill: "rgba(6, 118, 71, 0.08)",
    }],
  }, [data.t, data.score], container);
}

function networkChart(container, data) {
  const lossMax = Math.max(5, ...data.up_loss.filter((v) => v !== null), ...data.down_loss.filter((v) => v !== null));
  const rttMax = Math.max(100, ...data.rtt.filter((v) => v !== null));
  return new uPlot({
    title: `${t("Packet loss (%)")} · ${t("Round trip (ms)")}`,
    width: widthOf(container), height: HEIGHT,
    tzDate: inZone,
    scales: {
      x: { time: true },
      loss: { range: () => [0, lossMax * 1.15] },
      ms: { range: () => [0, rttMax * 1.15] },
    },
    axes: [{}, axis({ scale: "loss", label: "%" }), axis({ scale: "ms", side: 1, label: "ms", grid: { show: false } })],
    series: [
      {},
      { label: t("uplink loss"), scale: "loss", stroke: LEVEL_COLOURS.poor, width: 1.5, spanGaps: false, value: shown },
      { label: t("downlink loss"), scale: "loss", stroke: "#6941c6", width: 1.5, spanGaps: false, value: shown },
      { label: t("round trip"), scale: "ms", stroke: "#0b5cad", width: 1.5, spanGaps: false, value: shown },
    ],
  }, [data.t, data.up_loss, data.down_loss, data.rtt], container);
}

const plots = [];
for (const container of document.querySelectorAll(".quality-charts[data-subject]")) {
  const data = charts[container.dataset.subject];
  if (!data || !data.t.length) continue;
  for (const draw of [scoreChart, networkChart]) {
    const holder = document.createElement("div");
    holder.className = "quality-chart";
    container.append(holder);
    plots.push({ holder, plot: draw(holder, data) });
  }
}

let pending = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(() => {
    for (const { holder, plot } of plots) plot.setSize({ width: widthOf(holder), height: HEIGHT });
  });
});
