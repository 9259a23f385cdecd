"""Consent freshness on a long link (rooms.ice_consent): two real aioice connections on
127.0.0.1 talk through a relay that delays every datagram (a 1 s round trip) and can drop
them (loss bursts, an outage). aioice's own loop closes such a link; the tolerant one keeps
it, measures its round trip, and still ends consent when nothing answers for ``expiry``.

The checks run every 0.2 s here instead of every 5 s (aioice's ``CONSENT_INTERVAL`` is
shortened for its loop, ``interval`` given to ours), so each claim takes seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial

import aioice
import pytest
from aioice import Candidate, Connection, stun
from aioice.ice import StunProtocol

from rooms.ice_consent import MIN_RTO, PROBE_INTERVAL, ConsentClock, tolerate_long_links

INTERVAL = 0.2
ONE_WAY = 0.5  # seconds each way: a 1 s round trip
EXPIRY = 10.0


@dataclass
class Relay:
    """Datagrams between A and B, each delayed ``delay`` seconds; ``drop`` of them lost."""

    delay: float = ONE_WAY
    drop: int = 0  # the next this many datagrams are lost (a burst)
    blocked: bool = False  # an outage: everything is lost
    lost: int = 0
    lost_at: list[float] = field(default_factory=list)  # when each was lost
    sockets: dict[str, asyncio.DatagramTransport] = field(default_factory=dict)
    peers: dict[str, tuple[str, int]] = field(default_factory=dict)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for side, other in (("a", "b"), ("b", "a")):
            transport, _ = await loop.create_datagram_endpoint(
                partial(Toward, self, other), local_addr=("127.0.0.1", 0)
            )
            self.sockets[side] = transport

    def address(self, side: str) -> tuple[str, int]:
        """Where ``side`` sends to reach the other side."""
        host, port = self.sockets[side].get_extra_info("sockname")[:2]
        return host, port

    def forward(self, to: str, data: bytes) -> None:
        if self.blocked or self.drop > 0:
            self.drop = max(0, self.drop - 1)
            self.lost += 1
            self.lost_at.append(time.monotonic())
            return
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.sockets[to].sendto, data, self.peers[to])

    def close(self) -> None:
        for transport in self.sockets.values():
            transport.close()


class Toward(asyncio.DatagramProtocol):
    """One of the relay's sockets: what arrives goes on toward the other side."""

    def __init__(self, relay: Relay, to: str) -> None:
        self.relay, self.to = relay, to

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay.forward(self.to, data)


async def loopback_candidates(connection: Connection) -> None:
    """Host candidates on 127.0.0.1 only (the network rules), as Concord's hooks gather."""
    found = await connection.get_component_candidates(component=1, addresses=["127.0.0.1"])
    connection._local_candidates = found
    connection._local_candidates_start = connection._local_candidates_end = True


def through(candidate: Candidate, address: tuple[str, int]) -> Candidate:
    """``candidate`` as seen through the relay: the same, at the relay's address."""
    return Candidate(
        foundation=candidate.foundation,
        component=candidate.component,
        transport=candidate.transport,
        priority=candidate.priority,
        host=address[0],
        port=address[1],
        type=candidate.type,
    )


@dataclass
class Link:
    a: Connection
    b: Connection
    relay: Relay
    clocks: list[ConsentClock]


@pytest.fixture
async def link(request: pytest.FixtureRequest) -> AsyncIterator[Link]:
    """A and B connected through the relay; ``tolerant`` (the parameter, or the first of
    (tolerant, interval, one-way delay)) gives both the tolerant consent loop with ``expiry``
    10 s."""
    tolerant, interval, delay = (
        request.param if isinstance(request.param, tuple) else (request.param, INTERVAL, ONE_WAY)
    )
    relay = Relay(delay=delay)
    await relay.open()
    a, b = Connection(ice_controlling=True), Connection(ice_controlling=False)
    clocks = [tolerate_long_links(c, interval=interval, expiry=EXPIRY) for c in (a, b) if tolerant]
    for connection in (a, b):
        await loopback_candidates(connection)
    [a_host], [b_host] = a.local_candidates, b.local_candidates
    relay.peers = {"a": (a_host.host, a_host.port), "b": (b_host.host, b_host.port)}
    a.remote_username, a.remote_password = b.local_username, b.local_password
    b.remote_username, b.remote_password = a.local_username, a.local_password
    await a.add_remote_candidate(through(b_host, relay.address("a")))
    await b.add_remote_candidate(through(a_host, relay.address("b")))
    for connection in (a, b):
        await connection.add_remote_candidate(None)
    await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 30)
    try:
        yield Link(a, b, relay, clocks)
    finally:
        await a.close()
        await b.close()
        relay.close()


def alive(connection: Connection) -> bool:
    return not connection._closed and bool(connection._nominated)


async def test_the_aioice_internals_the_hook_relies_on() -> None:
    connection = Connection(ice_controlling=True)
    assert connection._nominated == {} and connection._query_consent_task is None
    assert callable(connection.build_request) and connection.remote_password is None
    assert hasattr(StunProtocol(connection), "transactions")
    request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
    transaction = stun.Transaction(request, ("127.0.0.1", 9), StunProtocol(connection))
    assert transaction._Transaction__timeout_delay == MIN_RTO  # type: ignore[attr-defined]
    assert aioice.ice.CONSENT_FAILURES == 6, "aioice's own loop: 6 failed checks end consent"


@pytest.mark.parametrize("link", [False], indirect=True)
async def test_aioice_alone_drops_a_working_link_with_a_one_second_round_trip(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault this module exists for: each check times out after 0.5 s, before its
    answer comes back, and six of them end consent although every answer arrives."""
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", INTERVAL)
    # (the loop started at connect() reads the constant before each sleep)
    deadline = time.monotonic() + 20
    while alive(link.a) and alive(link.b):
        assert time.monotonic() < deadline, "aioice kept the link: the hook may be obsolete"
        await asyncio.sleep(0.1)
    assert link.relay.lost == 0, "nothing was lost: only late"


@pytest.mark.parametrize("link", [True], indirect=True)
async def test_the_tolerant_loop_keeps_a_long_lossy_link_and_measures_its_round_trip(
    link: Link,
) -> None:
    for _ in range(6):  # 12 s of checks every 0.2 s, a burst of 2 lost datagrams every 2 s
        link.relay.drop = 2
        await asyncio.sleep(2.0)
        assert alive(link.a) and alive(link.b)
    assert link.relay.lost == 12
    for clock in link.clocks:
        assert clock.srtt is not None and 0.9 < clock.srtt < 1.5, clock.srtt
        # The next check waits twice the round trip, or longer while backing off after a loss.
        expected = clock.backoff if clock.backoff is not None else 2 * clock.srtt
        assert clock.rto() == pytest.approx(expected, rel=0.01) and clock.rto() >= 1.8
    # Data still flows both ways after all that.
    await link.a.send(b"hello")
    assert await asyncio.wait_for(link.b.recv(), 5) == b"hello"


@pytest.mark.parametrize("link", [True], indirect=True)
async def test_consent_ends_only_after_the_expiry_without_any_answer(link: Link) -> None:
    await asyncio.sleep(1.0)
    link.relay.blocked = True  # an outage: nothing answers any more
    blocked_at = time.monotonic()
    while alive(link.a):
        assert time.monotonic() - blocked_at < EXPIRY + 5, "consent never expired"
        await asyncio.sleep(0.05)
    took = time.monotonic() - blocked_at
    # ``EXPIRY`` after the last answer (which came up to a round trip before the block).
    assert EXPIRY - 2 * ONE_WAY - INTERVAL <= took, took
    assert link.clocks[0].expired(time.monotonic(), EXPIRY)


@pytest.mark.parametrize("link", [(True, 5.0, 0.05)], indirect=True)
async def test_during_an_outage_checks_go_out_often_so_an_answer_comes_soon_after(
    link: Link,
) -> None:
    """Regular checks every 5 s here (copies 0.5, 1.5 and 3.5 s after each): once one and
    its copy went unanswered, a check also goes out every PROBE_INTERVAL, so when the network
    is back the first answer comes within that (plus a 0.1 s round trip), not seconds later
    with the next copy or check; each side's first answer after it calls ``on_resumed``."""
    resumed: list[float] = []

    def note() -> None:
        resumed.append(time.monotonic())

    for clock in link.clocks:
        clock.on_resumed = note
    link.relay.blocked = True
    blocked_at = time.monotonic()
    await asyncio.sleep(8.0)  # the first check (4-6 s) and its copy go unanswered by ~7.5 s
    link.relay.blocked = False
    back = time.monotonic()
    while min(clock.answered_at for clock in link.clocks) < back:
        assert time.monotonic() - back < 5, "no answer after the outage"
        await asyncio.sleep(0.02)
    took = time.monotonic() - back
    assert took <= PROBE_INTERVAL + 0.25, took
    assert len(resumed) == 2 and min(resumed) >= back, (resumed, back)
    # Both sides probed through the last 1.5 s: about 3 each, besides the copies.
    late = [t for t in link.relay.lost_at if t > blocked_at + 6.5]
    assert len(late) >= 6, (len(late), [round(t - blocked_at, 2) for t in link.relay.lost_at])
    assert alive(link.a) and alive(link.b)


async def test_every_ice_connection_of_a_peer_connection_gets_the_tolerant_loop() -> None:
    from rooms import aiortc_hooks as hooks

    pc = hooks.new_peer_connection()
    try:
        pc.addTransceiver("audio")
        pc.addTransceiver("video")
        hooks.tolerate_long_links(pc)
        connections = hooks._ice_connections(pc)
        assert connections  # (one: max-bundle shares it between the m-lines)
        for connection in connections:
            assert "tolerate_long_links" in connection.query_consent.__qualname__
    finally:
        await pc.close()
