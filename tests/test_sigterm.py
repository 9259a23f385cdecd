"""``concord serve`` stops once on SIGTERM: a second SIGTERM while it stops (a supervisor that
repeats itself, or the test harness that stopped the cluster nodes twice) is only logged, so the
clean-up (rooms handed over, the cluster lease given up, the database closed) runs to its end.

A real process and real signals: the first SIGTERM raises ``GracefulExit`` out of the loop, as
``run_app`` expects; the loop then runs the clean-up, during which the second SIGTERM comes.
"""

from __future__ import annotations

import subprocess
import sys

from bench.served import ROOT

SCRIPT = """
import asyncio, logging, os, signal
from aiohttp import web
from server.shutdown import stop_once_on_sigterm

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
loop = asyncio.new_event_loop()

async def serving() -> None:
    await stop_once_on_sigterm(web.Application())
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(5)
    print("not stopped")

async def cleaning_up() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(0.2)
    print("cleaned up")

try:
    loop.run_until_complete(serving())
except web.GracefulExit:
    print("stopping")
loop.run_until_complete(cleaning_up())
"""


def test_the_first_sigterm_stops_and_a_second_one_does_not_cut_the_clean_up_short() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["stopping", "cleaned", "up"], ran.stdout
    assert "SIGTERM again: Concord is already stopping" in ran.stderr, ran.stderr
