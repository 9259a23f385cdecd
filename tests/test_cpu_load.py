"""``make test-stress``'s background load (bench/cpu_load.py): it loads the cores it was asked
to, refuses a share it cannot give, and leaves nothing running when it is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.cpu_load", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_a_share_outside_zero_to_one_is_refused_by_name() -> None:
    refused = _load("--share", "1.5")
    _, err = refused.communicate(timeout=30)
    assert refused.returncode == 2
    assert "1.5 is not a share between 0 (excluded) and 1" in err


def test_the_load_spins_its_processes_and_stops_with_them() -> None:
    with _load("--share", "0.3", "--processes", "2") as load:  # (closes its pipes)
        try:
            assert load.stdout is not None
            assert load.stdout.readline().startswith("cpu load: 2 processes at 30%")
            workers = _children(load.pid)
            assert len(workers) == 2, workers
            before = sum(_cpu_seconds(w) for w in workers)
            time.sleep(1.0)
            spent = sum(_cpu_seconds(w) for w in workers) - before
            assert spent > 0.2, f"2 workers at 30% spent {spent:.2f} s of CPU in 1 s"
        finally:
            load.send_signal(signal.SIGTERM)
            assert load.wait(timeout=10) == 0
    for worker in workers:
        assert not Path(f"/proc/{worker}").exists() or "Z" in _state(worker), worker


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
