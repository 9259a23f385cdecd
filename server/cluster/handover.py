"""A node that stops hands its rooms to the other nodes first (issue 16, part 3: drain).

On SIGTERM (or ``concord nodes drain ID``, which makes the node send itself SIGTERM), a node of
a cluster with other live nodes:

1. announces itself as draining, so no new room is placed on it;
2. keeps its rooms' state as it is now (the other node reopens them from it);
3. hands each room's lease to the node rendezvous chooses among the others, and tells the
   room's clients ``room.moving`` ``{"node", "url"}`` (docs/signalling.md): they join there,
   connect their new media, and only then close their media here, so the sound and the
   picture go on while they move;
4. keeps forwarding until every client has closed its peer connection here (at most ``WAIT``
   seconds), then the stop goes on as for a single node (``server.shutdown``): the sockets
   still open are dropped.

Without another live node there is nobody to hand the rooms to: the stop is a restart's
(clients are told to come back; the next node asked reopens the rooms from their kept state).
Nodes stopped together (``concord serve --workers``' workers on SIGTERM, a machine shutting
down) announce their draining, then look for the others ``SETTLE`` seconds later: they see
each other draining and do not pass rooms from one to the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import redis.exceptions

from server.cluster.nodes import NodeLease, live_nodes
from server.cluster.placement import RoomLeases
from server.cluster.rendezvous import choose
from server.live.registry import LiveRooms
from server.live.sent import RoomMoving
from server.sent import Sent

log = logging.getLogger(__name__)

WAIT = 8.0
"""Seconds a draining node keeps its rooms for the clients still moving."""
POLL = 0.1
SETTLE = 0.3
"""Seconds between announcing the draining and choosing whom to hand rooms to (nodes told to
stop at the same moment have all announced theirs by then)."""

#: Sends one event to everyone in a conference's room on this node.
Tell = Callable[[int, Sent], Awaitable[None]]


class Handover:
    def __init__(
        self,
        lease: NodeLease,
        leases: RoomLeases,
        rooms: LiveRooms,
        tell: Tell,
        present: Callable[[int], int],
    ) -> None:
        """``present``: how many of a conference's peer connections are still open here (a
        client closes its old one once its new one works on the other node)."""
        self.lease, self.leases, self.rooms = lease, leases, rooms
        self.tell, self.present = tell, present

    async def hand_over(self) -> list[int]:
        """Hand every room over (see above); the conferences whose rooms went elsewhere."""
        try:
            return await self._hand_over()
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning("no handover: Redis does not answer (%s); stopping as a restart", exc)
            return []

    async def _hand_over(self) -> list[int]:
        self.lease.draining = True
        await self.lease.beat()
        live = sorted(self.rooms.live())
        if not live:
            return []
        await asyncio.sleep(SETTLE)
        others = [
            node
            for node in await live_nodes(self.lease.client, self.lease.prefix)
            if node.id != self.lease.node_id and not node.draining
        ]
        if not others:
            return []
        began = time.monotonic()
        await self.rooms.keep_state_as_it_is()
        handed = []
        for conference_id in live:
            target = choose(conference_id, others)
            assert target is not None
            if not await self.leases.transfer(conference_id, target.id):
                continue
            await self.tell(conference_id, RoomMoving(node=target.id, url=target.url))
            handed.append(conference_id)
            log.info("room of conference %s handed to node %s", conference_id, target.id)
        for _ in range(int(WAIT / POLL)):  # (counted by the clients' own moves: polled)
            if not any(self.present(c) for c in handed):
                break
            await asyncio.sleep(POLL)
        log.info(
            "%d rooms handed over in %.1f s (%d peer connections still open)",
            len(handed),
            time.monotonic() - began,
            sum(self.present(c) for c in handed),
        )
        return handed
