"""ICE consent freshness (RFC 7675) that survives long, lossy international links.

aioice checks consent every ~5 s with a single STUN request that times out after 0.5 s and no
retransmission, and closes the connection after 6 failed checks in a row. On a 500 ms round
trip with a little loss or jitter most answers arrive after their request timed out, so a
working link is torn down every 30–45 s ("Consent to send expired").

``tolerate_long_links`` replaces that loop on one ``aioice.Connection`` (per object, like
every hook in ``rooms.aiortc_hooks``; the same private names are pinned in
``tests/rooms/test_ice_consent.py``):

- each check is retransmitted (``RETRANSMISSIONS`` times, the interval doubling), so a burst
  of loss costs nothing and an answer to any copy counts; checks start every interval whether
  or not the last one was answered yet (up to ``IN_FLIGHT`` at once);
- the first timeout is scaled to the measured round trip (``rto``: twice the smoothed round
  trip, within ``MIN_RTO``..``MAX_RTO``; doubled after an answer that needed a retransmission,
  Karn's rule, until an answer to a first copy measures the round trip again), so on a 1 s
  round trip the checks soon need no retransmission;
- consent is declared lost only after ``EXPIRY`` seconds (RFC 7675's 30 s) without any
  answer, not after a count of failed checks;
- once a check and its first retransmission went unanswered (an outage, most likely), a
  single extra check without copies also goes out every ``PROBE_INTERVAL`` until an answer:
  the moment the network is back, the browser hears from us within that and resumes its own
  ICE (Chrome's, even after it has called the connection "failed", waits for such a
  request), so media returns within a fraction of a second instead of at the next
  retransmission, seconds later; the first answer after such an outage calls ``on_resumed``
  (the room asks the publishers for key frames: the site's decoders lost their pictures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aioice import Connection, stun
from aioice.ice import CandidatePair, StunProtocol

log = logging.getLogger(__name__)

INTERVAL = 5.0
"""Seconds between checks, randomised to 0.8–1.2 times this (RFC 7675 section 5.1)."""
EXPIRY = 30.0
"""Seconds without any answer after which consent is lost (RFC 7675 section 5.1)."""
RETRANSMISSIONS = 3
"""Copies of a check sent after the first when no answer comes (RFC 8489 section 6.2.1)."""
IN_FLIGHT = 2
"""Checks of one pair under way at once: a new one starts each interval while an older one
still waits for its answer (its copies spaced out by then), up to this many."""
PROBE_INTERVAL = 0.25
"""Seconds between the extra checks sent while no answer has come for a whole interval."""
MIN_RTO, MAX_RTO = 0.5, 3.0
"""Bounds of the first retransmission timeout: RFC 8489's 500 ms floor, and a ceiling so that
a round trip measured during a burst of delay does not hold the retransmissions back long (a
check waits at most until consent would expire)."""


@dataclass
class ConsentClock:
    """What one connection's checks have measured: the smoothed round trip (RFC 6298's
    estimator, Karn's rule: only checks answered before any retransmission count) and when
    the last answer came."""

    answered_at: float = field(default_factory=time.monotonic)
    srtt: float | None = None
    backoff: float | None = None  # the timeout doubled while answers need retransmissions
    probing: bool = False  # checks went unanswered: probing often until an answer
    on_resumed: Callable[[], None] | None = None

    def rto(self) -> float:
        if self.backoff is not None:
            return self.backoff
        if self.srtt is None:
            return MIN_RTO
        return min(MAX_RTO, max(MIN_RTO, 2 * self.srtt))

    def answered(self, round_trip: float | None, now: float) -> None:
        """An answer: ``round_trip`` when it answered the first copy, else ``None`` (which
        copy it answered is unknown, so the next check starts with twice the timeout)."""
        self.answered_at = now
        if self.probing:
            self.probing = False
            if self.on_resumed is not None:
                self.on_resumed()
        if round_trip is None:
            self.backoff = min(MAX_RTO, 2 * self.rto())
            return
        self.backoff = None
        self.srtt = round_trip if self.srtt is None else 0.875 * self.srtt + 0.125 * round_trip

    def expired(self, now: float, expiry: float = EXPIRY) -> bool:
        return now - self.answered_at >= expiry


def tolerate_long_links(
    connection: Connection,
    *,
    interval: float = INTERVAL,
    expiry: float = EXPIRY,
    on_resumed: Callable[[], None] | None = None,
) -> ConsentClock:
    """Give ``connection`` the tolerant consent loop; call before it connects. Returns the
    clock its checks keep (for tests and statistics); ``on_resumed`` is called when an answer
    ends an outage."""
    clock = ConsentClock(on_resumed=on_resumed)

    async def query_consent() -> None:
        assert connection.remote_password is not None
        key = connection.remote_password.encode("utf8")
        clock.answered_at = time.monotonic()
        pending: dict[int, set[asyncio.Task[None]]] = {}
        probes: set[asyncio.Task[None]] = set()
        next_check = time.monotonic() + interval * (0.8 + 0.4 * random.random())
        last_sent = 0.0  # when the last round of checks went out
        try:
            while True:
                now = time.monotonic()
                unanswered = clock.answered_at < last_sent
                silent_from = last_sent + 2 * clock.rto()  # a check and its copy unanswered
                if unanswered and now >= silent_from:  # an outage, most likely: probe often
                    clock.probing = True
                    await asyncio.sleep(min(PROBE_INTERVAL, interval, max(0.0, next_check - now)))
                    for pair in _nominated(connection):
                        probe = asyncio.create_task(_check(connection, pair, key, clock, 0))
                        probes.add(probe)
                        probe.add_done_callback(probes.discard)
                else:
                    wake = min(next_check, silent_from) if unanswered else next_check
                    await asyncio.sleep(max(0.0, wake - now))
                if time.monotonic() < next_check:
                    continue
                last_sent = time.monotonic()
                next_check = time.monotonic() + interval * (0.8 + 0.4 * random.random())
                for pair in _nominated(connection):
                    checks = pending.setdefault(id(pair), set())
                    if len(checks) < IN_FLIGHT:
                        check = asyncio.create_task(_check(connection, pair, key, clock))
                        checks.add(check)
                        check.add_done_callback(checks.discard)
                if clock.expired(time.monotonic(), expiry):
                    log.info("consent to send expired: no answer for %.0f s", expiry)
                    connection._query_consent_task = None  # close() would cancel this task
                    await connection.close()
                    return
        finally:
            running = [check for checks in pending.values() for check in checks] + list(probes)
            for check in running:
                check.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    connection.query_consent = query_consent  # type: ignore[method-assign]
    return clock


def _nominated(connection: Connection) -> list[CandidatePair]:
    return list(connection._nominated.values())


async def _check(
    connection: Connection,
    pair: CandidatePair,
    key: bytes,
    clock: ConsentClock,
    retransmissions: int = RETRANSMISSIONS,
) -> None:
    """One consent check on ``pair``, retransmitted; its round trip feeds ``clock``."""
    request = connection.build_request(pair, nominate=False)
    rto = clock.rto()
    sent = time.monotonic()
    with contextlib.suppress(stun.TransactionError):
        await _transaction(pair.protocol, request, pair.remote_addr, key, rto, retransmissions)
        now = time.monotonic()
        first_copy = now - sent < rto  # answered before any retransmission (Karn)
        clock.answered(now - sent if first_copy else None, now)


async def _transaction(
    protocol: object,
    request: stun.Message,
    addr: tuple[str, int],
    key: bytes,
    rto: float,
    retransmissions: int = RETRANSMISSIONS,
) -> object:
    """A STUN transaction whose first timeout is ``rto``: as ``StunProtocol.request`` does it,
    with the timeout set; other protocols (TURN) keep aioice's own timing."""
    if not isinstance(protocol, StunProtocol):
        return await protocol.request(  # type: ignore[attr-defined]
            request, addr, integrity_key=key, retransmissions=retransmissions
        )
    request.add_message_integrity(key)
    transaction = stun.Transaction(
        request, addr, protocol, retransmissions=retransmissions, integrity_key=key
    )
    transaction._Transaction__timeout_delay = rto  # type: ignore[attr-defined]
    protocol.transactions[request.transaction_id] = transaction
    try:
        return await transaction.run()
    finally:
        del protocol.transactions[request.transaction_id]
