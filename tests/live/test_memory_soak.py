"""A short soak in CI (issue 20): Concord's own allocations stay flat after the warm-up.

``python -m bench soak`` with 4 sites (the main hall publishing video and a tone, three sites
publishing a tone, one of them listening to the English booth) for WARMUP + MEASURED minutes
against a served ``concord serve``. At the end of the warm-up the server starts tracemalloc
(``/debug/memory?baseline=1``); what the server's own files (``rooms/``, ``recordings/``,
``server/``) allocated since and still hold is read every SAMPLE seconds, and its growth
from one minute after the baseline (the packet rings kept for retransmissions have turned
over by then) to the end must stay under OWN_BOUND_KB.

Why that bound: in the 16-minute benchmark with 8 sites (``bench/results/README.md``,
"Memory through a long room"), the server's own allocations held 4.34 MB one minute after
the baseline (the rings of 512 packets per sender kept for retransmissions, refilled, and the
health sparklines) and 4.48-4.75 MB in the 9 minutes after: +0.33 MB in all, up and down by
up to 0.15 MB from one minute to the next as health points and room events come and go. For 4
sites over 1.5 minutes that is well under 100 KB, plus the sparklines still filling (5 minutes
of points for about 5 subjects: some 50 KB). The bound is about 4 times that; a leak of one
100-byte object per forwarded packet (about 700 a second here) would hold some 6 MB.
Descriptors and tasks must not grow (one of slack each).
"""

from __future__ import annotations

from pathlib import Path

from bench.soak import soak

WARMUP, MEASURED = 1.5, 2.5
SAMPLE = 30.0
OWN_BOUND_KB = 400.0


async def test_concords_own_allocations_stay_flat_after_the_warm_up(tmp_path: Path) -> None:
    result = await soak(4, WARMUP + MEASURED, WARMUP, SAMPLE, folder=tmp_path)
    server = result["server"]
    print(server)
    grown = server["own_growth_kb_after_settling"]
    assert grown is not None, server
    assert grown <= OWN_BOUND_KB, server["top_growth"]
    assert server["fds"][1] <= server["fds"][0] + 1, server["fds"]
    assert server["tasks"][1] <= server["tasks"][0] + 1, server["tasks"]
