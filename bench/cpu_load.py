"""A steady background CPU load for ``make test-stress``: the suite run on a machine that is
busy with something else, as CI's shared machines often are.

``python -m bench.cpu_load --share 0.5`` keeps every core busy for half of each 100 ms (one
process per core, each spinning, then sleeping) until it is stopped (SIGTERM or SIGINT). The
load is a duty cycle rather than a process per core at 100%: the suite's own processes get
the rest, as they would beside another tenant, and timing assertions meet a slower machine
rather than a stopped one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time
from types import FrameType

PERIOD = 0.1  # seconds: one spin and one sleep


def spin(share: float) -> None:
    """Busy for ``share`` of every PERIOD, forever."""
    while True:
        started = time.monotonic()
        while time.monotonic() - started < share * PERIOD:
            pass
        time.sleep((1 - share) * PERIOD)


def share_of_a_core(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 (excluded) and 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_load", description=__doc__)
    parser.add_argument(
        "--share", type=share_of_a_core, default=0.5, help="of each core, 0–1 (default 0.5)"
    )
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="default: one per core"
    )
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error(f"--processes {args.processes}: give at least 1")
    workers = [
        multiprocessing.Process(target=spin, args=(args.share,), daemon=True)
        for _ in range(args.processes)
    ]
    for worker in workers:
        worker.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        for worker in workers:
            worker.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"cpu load: {args.processes} processes at {args.share:.0%} of a core", flush=True)
    for worker in workers:
        worker.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
