"""The interpretation scenario's figures: one window, the verdicts across rounds, Markdown."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench import report
from bench.measure import median, percentile
from bench.run import server_rates

TARGET_CPU = 0.70  # of one core
TARGET_ADDED_P95_MS = report.TARGET_ADDED_P95_MS
PHASES = ("hall", "interpretation")  # booths off air, then on air
CPUS = os.cpu_count() or 1
DISTURBED_MS = 50.0  # a window where the server waited longer than this per second for its CPU


def _streams(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Per slot name, over every receiver: rates, losses (sequence gaps) and frame rates."""
    slots: dict[str, list[dict[str, float]]] = {}
    for name, now in after.items():
        then = before.get(name, {})
        for slot, counts in now.items():
            if not isinstance(counts, dict) or "expected" not in counts:
                continue
            old = then.get(slot, {"packets": 0, "expected": 0, "frames": 0})
            packets = counts["packets"] - old["packets"]
            expected = counts["expected"] - old["expected"]
            slots.setdefault(slot, []).append(
                {
                    "pps": packets / seconds,
                    "fps": (counts["frames"] - old["frames"]) / seconds,
                    "lost": max(0, expected - packets),
                    "expected": expected,
                }
            )
    result = {}
    for slot, rows in slots.items():
        lost = sum(r["lost"] for r in rows)
        expected = sum(r["expected"] for r in rows)
        result[slot] = {
            "streams": len(rows),
            "min_pps": min(r["pps"] for r in rows),
            "median_pps": median([r["pps"] for r in rows]),
            "min_fps": min(r["fps"] for r in rows),
            "lost": lost,
            "loss": lost / expected if expected else None,
            "with_loss": sum(1 for r in rows if r["lost"] > 0),
            "worst_loss": max(
                (r["lost"] / r["expected"] for r in rows if r["expected"]), default=0
            ),
        }
    return result


def _summary(values: list[int]) -> dict[str, Any]:
    """Percentiles (ms) of latencies in µs."""

    def ms(q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else value / 1000

    return {"packets": len(values), "p50_ms": ms(50), "p95_ms": ms(95), "p99_ms": ms(99)} | {
        "max_ms": max(values) / 1000 if values else None
    }


def _latency(latency: dict[str, Any]) -> dict[str, Any]:
    everyone = [v for values in latency["bridge"].values() for v in values]
    bridge, direct = _summary(everyone), _summary(latency["direct"])
    added = {}
    for q in ("p50", "p95"):
        b, d = bridge[f"{q}_ms"], direct[f"{q}_ms"]
        added[f"added_{q}_ms"] = None if b is None or d is None else b - d
    by_language = {lang: _summary(values) for lang, values in latency["bridge"].items()}
    return {"bridge": bridge, "direct": direct, "by_language": by_language} | added


def window(
    before: dict[str, Any], after: dict[str, Any], latency: dict[str, Any]
) -> dict[str, Any]:
    seconds = after["mono"] - before["mono"]
    rates = server_rates(before, after)
    cpu, forwarded = rates["server_cpu"], rates["forwarded_pps"]
    by_slot_then = before["server"]["forwarded_by_slot"]
    by_slot = {
        name: (count - by_slot_then.get(name, 0)) / seconds
        for name, count in after["server"]["forwarded_by_slot"].items()
    }
    sent = {
        lang: (
            now["sent"].get("packets", 0) - before["interpreters"][lang]["sent"].get("packets", 0)
        )
        / seconds
        for lang, now in after["interpreters"].items()
    }
    rtcp_lost = sum(
        now["rtcp_lost"] - then.get(name, {}).get("rtcp_lost", 0)
        for peers, then in (
            (after["peers"], before["peers"]),
            (after["interpreters"], before["interpreters"]),
        )
        for name, now in peers.items()
    )
    busy, total, steal = (a - b for a, b in zip(after["machine"], before["machine"], strict=True))
    clients = {
        role: (a - b) / seconds
        for role, a in after["clients_cpu"].items()
        if a is not None and (b := before["clients_cpu"].get(role)) is not None
    }
    lat = _latency(latency)
    return {
        "window_s": seconds,
        **rates,
        "server_rss_mb": after["server_rss"] / 2**20,
        # how long the server's event loop was ready but waited for its CPU (noisy neighbours)
        "server_wait_ms_per_s": (after["server_wait"] - before["server_wait"]) / seconds * 1000,
        "forwarded_by_slot_pps": by_slot,
        "received_pps": (after["server"]["received"] - before["server"]["received"]) / seconds,
        "us_per_packet": cpu / forwarded * 1e6 if forwarded else None,
        "interpreter_sent_pps": sent,
        "streams": _streams(before["peers"], after["peers"], seconds),
        "interpreter_streams": _streams(before["interpreters"], after["interpreters"], seconds),
        "rtcp_lost": rtcp_lost,
        # RTP of an SSRC no SDP announced (RTX, say): not counted anywhere else; expected 0
        "stray": sum(peer.get("stray", 0) for peer in after["peers"].values()),
        "connected": after["server"]["connected"],
        "latency": lat,
        "added_p50_ms": lat["added_p50_ms"],
        "added_p95_ms": lat["added_p95_ms"],
        "machine_busy": busy / total if total else None,
        # CPU of everything else on the machine (other people's work on a shared machine)
        "others_cpu": busy / total * CPUS - rates["server_cpu"] - sum(clients.values())
        if total
        else None,
        "machine_steal": steal / total if total else None,
        "clients_cpu": sum(clients.values()),
        "clients_cpu_by_process": clients,
    }


def progress(p: dict[str, Any]) -> str:
    lat = p["latency"]
    interp = p["streams"].get("interpretation.audio", {})

    def f(value: Any, spec: str = ".1f") -> str:
        return "-" if value is None else format(value, spec)

    return (
        f"interpretation round {p['round']} {p['phase']}: cpu {p['server_cpu']:.3f} s/s, "
        f"{p['forwarded_pps']:.0f} pkt/s ({f(p['us_per_packet'])} µs/pkt), "
        f"interpretation {p['forwarded_by_slot_pps'].get('interpretation.audio', 0):.0f} pkt/s, "
        f"lost {interp.get('lost', 0)}, latency p95 {f(lat['bridge']['p95_ms'], '.2f')} ms "
        f"(direct {f(lat['direct']['p95_ms'], '.2f')}, added {f(p['added_p95_ms'], '+.2f')}), "
        f"clients {p['clients_cpu']:.2f} s/s, others {f(p['others_cpu'], '.2f')} s/s, "
        f"server waited {p['server_wait_ms_per_s']:.0f} ms/s for its CPU"
    )


# --- across rounds ------------------------------------------------------------------------


def _lost(point: dict[str, Any]) -> int:
    streams = [*point["streams"].values(), *point["interpreter_streams"].values()]
    return int(sum(s["lost"] for s in streams))


def analyse(results: dict[str, Any]) -> dict[str, Any]:
    windows = results["windows"]
    by_phase = {phase: [w for w in windows if w["phase"] == phase] for phase in PHASES}

    def med(phase: str, key: str) -> float | None:
        return median([w[key] for w in by_phase[phase] if w[key] is not None])

    keys = ("server_cpu", "forwarded_pps", "us_per_packet", "added_p50_ms", "added_p95_ms")
    summary: dict[str, Any] = {ph: {k: med(ph, k) for k in keys} for ph in PHASES}
    marginal = []
    for hall, full in zip(by_phase["hall"], by_phase["interpretation"], strict=False):
        extra = full["forwarded_pps"] - hall["forwarded_pps"]
        if extra > 0:
            marginal.append((full["server_cpu"] - hall["server_cpu"]) / extra * 1e6)
    summary["marginal_us_per_packet"] = median(marginal)
    summary["marginal_by_round"] = marginal
    full = by_phase["interpretation"]
    cpu, added = summary["interpretation"]["server_cpu"], summary["interpretation"]["added_p95_ms"]
    worst_cpu = max((w["server_cpu"] for w in full), default=None)
    worst_added = max(
        (w["added_p95_ms"] for w in full if w["added_p95_ms"] is not None), default=None
    )
    lost = sum(_lost(w) for w in full)
    cpus = results.get("server_cpus", "?")
    targets = [
        {
            "target": f"everything on one core at ≤ {TARGET_CPU:.0%}",
            "measured": "not measured"
            if cpu is None
            else f"{cpu:.1%} of CPU {cpus} (median of {len(full)} rounds; worst {worst_cpu:.1%})",
            "met": None if cpu is None else cpu <= TARGET_CPU,
        },
        {
            "target": f"server-added latency ≤ {TARGET_ADDED_P95_MS:.0f} ms p95 "
            "(bridge p95 − direct p95)",
            "measured": "not measured"
            if added is None
            else f"{added:+.2f} ms (median of rounds; worst {worst_added:+.2f} ms)",
            "met": None if added is None else added <= TARGET_ADDED_P95_MS,
        },
        {
            "target": "no packet lost (every stream, every on-air window)",
            "measured": f"{lost} packets lost",
            "met": lost == 0 if full else None,
        },
    ]
    return {"summary": summary, "targets": targets}


# --- Markdown -----------------------------------------------------------------------------


def _f(value: Any, spec: str = ".1f") -> str:
    return "–" if value is None else format(value, spec)


def _pair(a: Any, b: Any, spec: str = ".2f") -> str:
    return f"{_f(a, spec)}/{_f(b, spec)}"


def markdown(results: dict[str, Any]) -> str:
    env, cfg = results["environment"], results["config"]
    langs = cfg["languages"]
    receivers = results["receivers"]
    sites, listeners = receivers["sites"], receivers["listeners"]
    per_language = ", ".join(f"{n} {lang}" for lang, n in receivers["per_language"].items())
    lines = [
        f"# Concord interpretation benchmark ({results['started']})",
        "",
        f"{env['cpus']} × {env['cpu_model']}; Python {env['python']}, aiortc "
        f"{env['packages']['aiortc']}. The server pinned to CPU {results.get('server_cpus')}, "
        f"the clients to CPU {results.get('client_cpus')}{_nice(cfg)}. Main hall VP8 "
        f"{cfg['video_bitrate'] // 1000} kbps at {cfg['fps']} fps + Opus; {len(langs)} booths "
        f"({', '.join(langs)}), one interpreter on air in each (a tone in Opus "
        f"{cfg['audio_bitrate'] // 1000} kbps, hearing the floor and seeing the hall); {sites} "
        f"sites receive the hall's video and audio and their language; {listeners} listeners "
        f"receive a language only: {per_language}. {cfg['rounds']} rounds, each "
        f"a {cfg['window']:.0f} s window with the booths off air (the main hall alone) and one "
        f"on air, after {cfg['settle']:.0f} s of settling; every process on 127.0.0.1. "
        f"Run took {results['duration_s'] / 60:.1f} min.",
        "",
        "CPU is the server process alone (utime+stime, all threads) per wall second: 1.0 is the "
        "whole core it is pinned to. Latency is from the interpreter's send (a time stamp in "
        f"each packet) to the listener's socket, all {sites + listeners} listeners pooled; "
        "*direct* is the same from the same interpreters straight to the listener processes, "
        "no server, in the same window; *added* = bridge − direct at p50 and p95. Loss is "
        "sequence gaps per stream. *Server waited* is how long the server's event loop was "
        "ready to run but waited for its CPU (schedstat): other processes on that core, which "
        "latency then shows. *Clients* is the benchmark's own publisher, interpreters and "
        "listener workers; *others'* is everything else on the machine (other people's work).",
        "",
        "| round | booths | server CPU | fwd pkt/s | µs CPU/pkt | interp. pkt/s | lowest "
        "listener pkt/s | lost seq/RTCP | latency p50/p95 ms | direct p50/p95 ms "
        "| added p50/p95 ms | clients CPU s/s | others' CPU s/s | server waited ms/s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in results["windows"]:
        lat = p["latency"]
        interp = p["streams"].get("interpretation.audio", {})
        on = p["phase"] == "interpretation"
        disturbed = " †" if p["server_wait_ms_per_s"] > DISTURBED_MS else ""
        lines.append(
            f"| {p['round']}{disturbed} | {'on air' if on else 'off air'} | "
            f"{p['server_cpu']:.1%} | "
            f"{p['forwarded_pps']:.0f} | {_f(p['us_per_packet'])} | "
            f"{p['forwarded_by_slot_pps'].get('interpretation.audio', 0):.0f} | "
            f"{_f(interp.get('min_pps') if on else None, '.1f')} | "
            f"{_lost(p)}/{p['rtcp_lost']} | "
            f"{_pair(lat['bridge']['p50_ms'], lat['bridge']['p95_ms'])} | "
            f"{_pair(lat['direct']['p50_ms'], lat['direct']['p95_ms'])} | "
            f"{_pair(p['added_p50_ms'], p['added_p95_ms'], '+.2f')} | "
            f"{p['clients_cpu']:.2f} | {_f(p['others_cpu'], '.2f')} | "
            f"{p['server_wait_ms_per_s']:.0f} |"
        )
    lines += [
        "",
        f"† the server waited more than {DISTURBED_MS:.0f} ms per second for its CPU: other "
        "processes on its core, so its latency (not its CPU time) is theirs as much as its own.",
    ]
    if results.get("error"):
        lines += ["", f"**The run stopped early**: {results['error']}."]
    lines += _summary_lines(results)
    lines += ["", "**Targets** (issue 4):", "", "| target | measured | met |", "|---|---|---|"]
    for t in results["analysis"]["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {t['measured']} | {met} |")
    if results.get("profile"):
        lines += ["", *profile_lines(results["profile"])]
    return "\n".join(lines) + "\n"


def _nice(cfg: dict[str, Any]) -> str:
    nice = cfg.get("nice", 0)
    return f" (every bench process at nice {nice}, in a session of its own)" if nice else ""


def _summary_lines(results: dict[str, Any]) -> list[str]:
    summary = results["analysis"]["summary"]
    on, off = summary["interpretation"], summary["hall"]
    ratio = None
    if on["server_cpu"] and off["server_cpu"]:
        ratio = on["server_cpu"] / off["server_cpu"]
    by_round = ", ".join(f"{v:.1f}" for v in summary["marginal_by_round"])
    on_air = [w for w in results["windows"] if w["phase"] == "interpretation"]
    languages = sorted({lang for w in on_air for lang in w["latency"]["by_language"]})
    per_language = ", ".join(
        f"{lang} {_f(median(_values(on_air, lang)), '.2f')}" for lang in languages
    )
    return [
        "",
        "**Summary** (medians over the rounds):",
        "",
        f"- Booths on air: {_f(on['server_cpu'], '.1%')} of one core, "
        f"{_f(on['forwarded_pps'], '.0f')} packets/s forwarded, {_f(on['us_per_packet'])} µs "
        f"of CPU per forwarded packet; added latency {_f(on['added_p50_ms'], '+.2f')} ms p50, "
        f"{_f(on['added_p95_ms'], '+.2f')} ms p95.",
        f"- Main hall alone (booths off air, same room and receivers): "
        f"{_f(off['server_cpu'], '.1%')} of one core, {_f(off['forwarded_pps'], '.0f')} "
        f"packets/s, {_f(off['us_per_packet'])} µs per packet.",
        f"- Interpretation's own cost: {_f(summary['marginal_us_per_packet'])} µs of CPU per "
        f"interpretation packet forwarded (on air − off air, per round: {by_round}); on air "
        f"takes {_f(ratio, '.2f')}× the CPU of the main hall alone.",
        f"- Latency p95 through the server by booth (ms): {per_language}.",
        f"- Loss per listener (interpretation.audio, on air): {_loss(on_air)}.",
    ]


def _loss(windows: list[dict[str, Any]]) -> str:
    streams = [w["streams"].get("interpretation.audio") for w in windows]
    rows = [s for s in streams if s]
    if not rows:
        return "not measured"
    listeners = max(s["streams"] for s in rows)
    worst = max(s["with_loss"] for s in rows)
    return (
        f"{sum(s['lost'] for s in rows)} packets lost in all; at most {worst} of {listeners} "
        f"listeners lost any in one window, the worst {max(s['worst_loss'] for s in rows):.2%}"
    )


def _values(windows: list[dict[str, Any]], language: str) -> list[float]:
    """The p95 latencies (ms) of ``language``'s listeners in ``windows`` that have one."""
    values = [w["latency"]["by_language"].get(language, {}).get("p95_ms") for w in windows]
    return [v for v in values if v is not None]


def profile_lines(profile: dict[str, Any], packages: int = 10, functions: int = 15) -> list[str]:
    lines = [
        f"**Where the server's time goes** (cProfile of its event loop's thread CPU time for "
        f"{profile['seconds']:.0f} s on air, after the windows; the profiler slows it down, so "
        "read shares, not absolute times):",
        "",
        "| package | own time share |",
        "|---|---:|",
    ]
    for row in profile["packages"][:packages]:
        lines.append(f"| {row['package']} | {row['share']:.1%} |")
    lines += ["", "| function | calls | own s | cumulative s |", "|---|---:|---:|---:|"]
    for row in profile["functions"][:functions]:
        name = row["function"].replace("|", "\\|")
        lines.append(
            f"| `{name}` | {row['calls']} | {row['own_s']:.3f} | {row['cumulative_s']:.3f} |"
        )
    return lines


def write(results: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "interpretation.json",
        "markdown": out_dir / "interpretation.md",
    }
    paths["json"].write_text(json.dumps(results, indent=2, default=str) + "\n")
    paths["markdown"].write_text(markdown(results))
    return paths
