"""A technician's restart rehearsal (issue 14, point 6): ``concord simulate-sites``'s code runs
against a real ``concord serve`` (SQLite, the demo) that is stopped with SIGTERM and started
again on the same port. The synthetic sites come back by themselves: they reconnect, join
again, are admitted again by the operator's console (the restarted room does not remember
admissions yet) and receive media again; their reports count the reconnection and the gap.
The old process ends by itself, with exit code 0, within EXIT_WITHIN seconds of SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

from bench.served import Served
from server.live.simulate import SiteReport
from server.live.simulate_cli import simulate
from server.settings import load_config
from tests.room_recording.test_crash import environment, organiser_token  # noqa: F401

MOU = 1
DURATION = 20.0  # seconds of simulation: a few of media, the restart, a few of media again
EXIT_WITHIN = 10.0


async def test_simulated_sites_come_back_after_a_server_restart(
    environment: tuple[dict[str, str], int],  # noqa: F811
    tmp_path: Path,
) -> None:
    env, port = environment
    config = load_config(environ={k: v for k, v in env.items() if k.startswith("CONCORD_")})
    server = Served(env, port, tmp_path / "serve.log")
    await server.start()
    restarted: Served | None = None
    run: asyncio.Task[list[SiteReport]] | None = None
    try:
        token = await organiser_token(server.url)
        began = time.monotonic()
        run = asyncio.create_task(simulate(config, MOU, 2, DURATION, server.url, token))
        await asyncio.sleep(5.0)  # joined, admitted, a few seconds of media
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        code = await asyncio.to_thread(server.process.wait, EXIT_WITHIN)
        gone = time.monotonic()
        restarted = Served(env, port, tmp_path / "serve-again.log")
        answered = await restarted.start()
        reports = await run
        ended = time.monotonic()
    finally:
        if run is not None and not run.done():
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
        server.stop()
        if restarted is not None:
            restarted.stop()
    print(
        f"SIGTERM at {stopped - began:.1f} s, the process exited ({code}) after "
        f"{gone - stopped:.2f} s; the new server "
        f"answered {answered - gone:.1f} s after that; the run ended {ended - answered:.1f} s "
        "later"
    )
    assert code == 0 and gone - stopped < EXIT_WITHIN, (code, server.log.read_text()[-3000:])
    for report in reports:
        # No media from the old process's end until the new one answered, and some time to
        # come back (reconnect, join, be admitted, connect media) after that.
        back = report.longest_media_gap_s - (answered - gone)
        print(f"{report.line()}; media again {back:.1f} s after the new server answered")
        assert report.reconnects >= 1, report
        assert report.revoked is None, report
        assert report.longest_media_gap_s >= answered - gone - 0.2, report
        assert report.longest_media_gap_s < ended - gone - 1.0, report  # media again
        assert back < 10.0, report
        assert report.fps < 14.0, report  # 15 fps sent; the outage counts
        assert report.audio_packets_received > 100, report
