"""``python -m bench``: run the benchmark, write bench/results/, print the Markdown table.

``python -m bench interpretation [options]`` runs the interpretation scenario alone (the full
run ends with it, unless ``--no-interpretation``). ``python -m bench scheduling [options]``
runs the scheduling API benchmark (issue 5) on its own; the full run does not include it;
``python -m bench health`` the cost of connection-health sampling (issue 6), likewise;
``python -m bench dashboard`` the technicians' dashboard's rendering in Chromium;
``python -m bench restart`` the seconds a restart costs every site (issue 14).
``python -m bench cluster`` failover, placement and the shared services' load of a cluster
(issue 16); ``python -m bench workers`` the packets ``--workers 2`` forwards against one node.
``python -m bench soak`` whether memory stays flat through a long room (issue 20).
``python -m bench qualities`` a chair console's bitrate and the server's CPU per forwarded
packet with one and with two qualities per camera (issue 15).
``python -m bench ledger-append`` one ledger append's cost at 1,000 to 100,000 entries, with
the stored frontier and reading every leaf (issue 19).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import asdict
from pathlib import Path

from bench import interpretation, report
from bench.run import Options, default_sizes, log, run


def _sizes(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive integers, e.g. 1,2,4")
    return values


def parse(argv: list[str]) -> tuple[Options, bool]:
    """The options of the main-hall benchmark, and whether the interpretation scenario runs."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Concord media-plane benchmark: the SFU in rooms/ against aiortc's "
        "MediaRelay, N count-only sites, one decoding probe (see bench/__init__.py).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a ~2 minute subset: SFU N=1,4,16,32, MediaRelay N=1,2,4, 5 s windows",
    )
    parser.add_argument("--sizes", type=_sizes, help="SFU sizes N (default 1,2,4,8,16,32,64)")
    parser.add_argument(
        "--relay-sizes",
        type=_sizes,
        help="MediaRelay sizes, stopped early at collapse (default 1,2,4,8,16)",
    )
    parser.add_argument("--no-relay", action="store_true", help="skip the MediaRelay baseline")
    parser.add_argument(
        "--no-micro", action="store_true", help="skip the per-stage send-path micro-benchmark"
    )
    parser.add_argument("--window", type=float, help="seconds measured per N (default 10, quick 5)")
    parser.add_argument("--settle", type=float, help="seconds waited after joining (default 3)")
    parser.add_argument("--sites-per-worker", type=int, default=16)
    parser.add_argument("--fps", type=int, default=30, help="publisher frame rate")
    parser.add_argument("--video-kbps", type=int, default=600)
    parser.add_argument("--audio-kbps", type=int, default=32)
    parser.add_argument("--out", type=Path, help="output folder (default bench/results)")
    parser.add_argument(
        "--no-interpretation",
        action="store_true",
        help="skip the interpretation scenario (run alone: python -m bench interpretation)",
    )
    args = parser.parse_args(argv)
    sizes, relay_sizes = default_sizes(args.quick)
    opts = Options(
        sizes=args.sizes or sizes,
        relay_sizes=[] if args.no_relay else (args.relay_sizes or relay_sizes),
        window=args.window or (5.0 if args.quick else 10.0),
        settle=args.settle if args.settle is not None else (2.0 if args.quick else 3.0),
        sites_per_worker=args.sites_per_worker,
        fps=args.fps,
        video_bitrate=args.video_kbps * 1000,
        audio_bitrate=args.audio_kbps * 1000,
        relay=not args.no_relay,
        micro=not args.no_micro,
    )
    if args.out:
        opts.out_dir = args.out
    return opts, not args.no_interpretation


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["interpretation"]:
        return interpretation.main(argv[1:])
    if argv[:1] == ["dashboard"]:
        # In Chromium, with the browser tests' fixtures (server and browser in a namespace).
        import subprocess

        test = "tests/browser/bench_dashboard.py"
        return subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", test, *argv[1:]])
    if argv[:1] == ["qualities"]:
        from bench import qualities

        return qualities.main(argv[1:])
    if argv[:1] == ["workers"]:
        from bench import workers

        return workers.main(argv[1:])
    if argv[:1] == ["ledger-append"]:
        from bench import ledger_append

        return ledger_append.main(argv[1:])
    if argv[:1] == ["soak"]:
        from bench import soak

        return soak.main(argv[1:])
    if argv[:1] == ["cluster"]:
        from bench import cluster

        return cluster.main(argv[1:])
    if argv[:1] == ["restart"]:
        from bench import restart

        return restart.main(argv[1:])
    if argv[:1] == ["health"]:
        from bench import health

        return health.main(argv[1:])
    if argv[:1] == ["scheduling"]:
        from bench import scheduling

        return scheduling.main(argv[1:])
    opts, interpreting = parse(argv)
    results = asyncio.run(run(opts))
    config = asdict(opts)
    config["out_dir"] = str(opts.out_dir)
    results = {"config": config, "environment": report.environment()} | results
    results["analysis"] = report.analyse(results)
    paths = report.write(results, opts.out_dir)
    if "png" not in paths:
        log("matplotlib is not installed: no PNG plot (pip install matplotlib)")
    for kind, path in paths.items():
        log(f"{kind}: {path}")
    print(report.markdown(results))
    if interpreting:
        log("interpretation scenario (issue 4)")
        scenario = interpretation.Scenario(out_dir=opts.out_dir)
        if opts.window < scenario.window:  # --quick or a short --window: shorter here too
            scenario.rounds, scenario.window = 2, opts.window
        print(interpretation.markdown(interpretation.measure(scenario)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
