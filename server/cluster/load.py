"""What this node carries, for its entry in the cluster (``server.cluster.nodes.Load``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rooms.room import BridgeRoom
from server.cluster.nodes import Load
from server.monitoring.metrics import Totals


class LoadMeter:
    """Each ``sample()`` gives the load since the previous one: live rooms and connected sites
    now, packets forwarded per second and CPU seconds per second in between (the forwarded
    count keeps what the peers that have gone since had counted, ``metrics.Totals``)."""

    def __init__(self, rooms: Callable[[], dict[int, BridgeRoom]]) -> None:
        self._rooms = rooms
        self._forwarded = Totals(1)
        self._last = (time.monotonic(), time.process_time(), 0)

    def sample(self) -> Load:
        rooms = self._rooms()
        slots = [
            (slot, (slot.forwarded,))
            for room in rooms.values()
            for peer in room.peers()
            for slot in peer.slots.values()
        ]
        (forwarded,) = self._forwarded.update(slots)
        now, cpu = time.monotonic(), time.process_time()
        then, cpu_then, forwarded_then = self._last
        self._last = (now, cpu, forwarded)
        seconds = max(1e-3, now - then)
        sites = sum(
            1
            for room in rooms.values()
            for site in room.sites.values()
            if site.peer is not None and site.link == "connected"
        )
        return Load(
            rooms=len(rooms),
            sites=sites,
            forwarded_pps=round((forwarded - forwarded_then) / seconds, 1),
            cpu=round((cpu - cpu_then) / seconds, 3),
        )
