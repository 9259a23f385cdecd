"""Benchmark, not a test (``python -m bench dashboard`` runs it; pytest does not collect it):
how long the technicians' dashboard takes to take in one health report of N sites.

It uses the browser tests' fixtures (the server and Chromium inside the test namespace): the
organiser opens the dashboard of the demo's aid review, then the page is fed synthetic reports
through ``window.__health.apply`` (as ``health.report`` would: 40 rows of varying figures every
time, with a 5-minute history building up), and for each report the time to apply it and the
time of the frame that renders it are read (``window.__health.renderMs``). Written to
``bench/results/dashboard.json`` and ``.md``; no assertion on time.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.conftest import NewContext, Server
from tests.browser.probes import sign_in

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
ORGANISER = ("organiser@concord.example", "concord-organiser")
SIZES = [int(n) for n in os.environ.get("CONCORD_BENCH_DASHBOARD_SITES", "1,10,40").split(",")]
REPORTS = int(os.environ.get("CONCORD_BENCH_DASHBOARD_REPORTS", "160"))

FEED_JS = """
async ([sites, reports]) => {
  const h = window.__health;
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const applyMs = [], renderMs = [];
  const start = Date.now() / 1000;
  for (let k = 0; k < reports; k++) {
    const at = start + 2 * k;
    const rows = [];
    for (let i = 0; i < sites; i++) {
      const bad = (i + k) % 13 === 0;
      rows.push({
        subject: `site:${1000 + i}`, name: `Bench site ${i}`, kind: "site", booth: null,
        level: bad ? "poor" : (i % 7 === 0 ? "fair" : "good"), score: bad ? 40 : 90 + (k % 10),
        uplink: {loss: bad ? 0.05 : 0.001 * (i % 3), jitter: 0.004, bitrate: 400000 + i * 1000,
          packets: 150},
        downlink: {loss: 0.002, jitter: 0.003, bitrate: 800000, packets: 300},
        where: bad ? "uplink" : null, flags: [], since: start, at, connection: "connected",
        rtt: 0.02 + 0.001 * (k % 20), frame_rate: 15, keyframe_requests: 0, nacks: 0,
        silent_for: 0, audio_level: 30, browser: null,
      });
    }
    const t0 = performance.now();
    h.apply({conference_id: 2, at, rows, alerts: [], changes: []});
    applyMs.push(performance.now() - t0);
    await frame();
    renderMs.push(h.renderMs);
  }
  return {applyMs, renderMs, rowsShown: document.querySelectorAll("#health-rows tr").length};
}
"""


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max": round(ordered[-1], 2),
    }


def _measure(page: Page, sites: int) -> dict[str, object]:
    page.goto("/conferences/2/health")
    page.wait_for_function("() => window.__health && window.__health.watching", timeout=30_000)
    found = page.evaluate(FEED_JS, [sites, REPORTS])
    steady = slice(10, None)  # the first reports create the rows and their charts
    return {
        "sites": sites,
        "reports": REPORTS,
        "rows_shown": found["rowsShown"],
        "apply_ms": _stats(found["applyMs"][steady]),
        "render_ms": _stats(found["renderMs"][steady]),
        "first_render_ms": round(max(found["renderMs"][:3]), 2),
    }


def test_dashboard_render_cost(new_context: NewContext, concord_server: Server) -> None:
    page = new_context("bench-organiser").new_page()
    sign_in(page, ORGANISER)
    rows = [_measure(page, n) for n in SIZES]
    base = rows[0]
    for row in rows:
        p50 = row["render_ms"]["p50"]  # type: ignore[index]
        row["render_ratio_to_baseline"] = round(p50 / max(base["render_ms"]["p50"], 0.01), 1)  # type: ignore[index]
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        },
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dashboard.json").write_text(json.dumps(results, indent=2))
    lines = [
        "# Dashboard rendering benchmark (issue 6)",
        "",
        f"{results['machine']}",
        "",
        "| sites | reports | rows | apply p50 / p95 ms | render p50 / p95 / max ms"
        " | first render ms | × 1 site |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a, f = r["apply_ms"], r["render_ms"]
        lines.append(
            f"| {r['sites']} | {r['reports']} | {r['rows_shown']} | {a['p50']} / {a['p95']} |"  # type: ignore[index]
            f" {f['p50']} / {f['p95']} / {f['max']} | {r['first_render_ms']} |"  # type: ignore[index]
            f" {r['render_ratio_to_baseline']} |"
        )
    (RESULTS / "dashboard.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    assert rows[-1]["rows_shown"] == SIZES[-1], "every site has its row"
