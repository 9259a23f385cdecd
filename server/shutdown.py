"""A graceful stop (SIGTERM, SIGINT): clients are told to come back, recordings are finished.

aiohttp's ``run_app`` stops listening, then fires ``on_shutdown``, then waits up to
``SHUTDOWN_TIMEOUT`` seconds for the requests still running (socket.io's websockets among them)
and then runs the cleanup contexts (rooms and peer connections, the database). The long-lived
websockets would hold that wait to its end, so ``on_shutdown`` ends them itself, in this order:

0. in a cluster with other live nodes, the rooms are handed over first
   (``server.cluster.handover``): their clients move to the other nodes with their media, and
   what follows only concerns those that had not left;
1. ``server.restarting`` ``{"retry_after_ms"}`` to every connection of ``/room`` and ``/``
   (docs/signalling.md);
2. the recordings' parts going on stop: each file is finished and stored while the rooms and
   their media are still there; a recording whose room is kept waits as "resuming" and
   continues as its next part when the restarted process reopens the room;
3. every engine.io connection is dropped at the transport: no socket.io DISCONNECT and no
   engine.io CLOSE packet (every socket.io client takes the first, and python-socketio also
   the second, as "the server sent me away" and does not reconnect), but the websocket
   closed by the server after what was queued for it, as when a server goes away: clients
   see "transport close" and reconnect by themselves. engine.io's ``close(abort=True)``
   runs the server-side disconnect handlers and waits for the queue to drain; the writer is
   then woken with ``None`` (what engine.io does itself when its reader ends) and closes the
   websocket.

A second SIGTERM while this runs (a supervisor that repeats itself) is logged and otherwise
ignored: ``run_app`` would raise it inside the cleanup and leave the rooms, the cluster lease
and the database half closed. SIGINT still interrupts, for an operator who means it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from aiohttp import web

from server.keys import HANDOVER, LIVE_ROOMS, RECORDINGS, SOCKETS
from server.sent import ServerRestarting, send

log = logging.getLogger(__name__)

RETRY_AFTER_MS = 1000
"""When clients should try again: a restarted server answers 2–3 s after the old one ends."""
SHUTDOWN_TIMEOUT = 3.0
"""How long ``run_app`` waits for requests still running once the sockets are closed."""
CLOSE_TIMEOUT = 3.0
"""How long closing the engine.io connections may take before they are dropped."""


async def announce_and_close(app: web.Application) -> None:
    """``on_shutdown``: the notice, the recordings, then the connections."""
    began = time.monotonic()
    handover = app.get(HANDOVER)
    if handover is not None:
        await handover.hand_over()
    sockets = app[SOCKETS]
    notice = ServerRestarting(retry_after_ms=RETRY_AFTER_MS)
    for namespace in notice.namespaces:
        try:
            await send(sockets, notice, namespace=namespace)
        except Exception:
            log.exception("could not tell %s that the server is restarting", namespace)
    recordings = app.get(RECORDINGS)
    if recordings is not None:
        await recordings.suspend()
    rooms = app.get(LIVE_ROOMS)
    if rooms is not None:  # what the leaving connections undo (booths off air) is not kept
        await rooms.keep_state_as_it_is()
    connections = list(sockets.eio.sockets.values())
    if connections:
        closing = asyncio.gather(*(_drop(c) for c in connections), return_exceptions=True)
        try:
            await asyncio.wait_for(closing, CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("some connections did not close within %.0f s", CLOSE_TIMEOUT)
        for connection in connections:
            connection.queue.put_nowait(None)  # the writer ends and closes the websocket
    log.info("shutdown: clients told and recordings stopped in %.2f s", time.monotonic() - began)


async def stop_once_on_sigterm(app: web.Application) -> None:
    """``on_startup`` of ``concord serve``, after ``run_app`` set its own SIGTERM handler:
    the first SIGTERM stops the server as before, the ones after it are only logged."""
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if stopping:
            log.warning("SIGTERM again: Concord is already stopping and finishes that first")
            return
        stopping = True
        raise web.GracefulExit()

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
        pass


async def _drop(connection: Any) -> None:
    """Close one engine.io connection without telling the client not to come back."""
    await connection.close(abort=True, reason=connection.server.reason.SERVER_DISCONNECT)
