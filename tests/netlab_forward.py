"""One direction of the network lab's impaired link (tests/netlab.py): the forwarder thread.

A :class:`Forwarder` reads IPv4 packets from one TUN device and writes them into the other,
doing to each what its :class:`Impairment` says, in this order:

* ``cut``: the link is down (an outage); every packet is dropped (counted ``dropped``);
* ``block_udp``: IPv4 packets whose protocol byte is 17 (UDP) are dropped (``blocked``),
  everything else passes, so a test can force TCP (TURN over TCP, say);
* ``loss``: dropped with this probability (a seeded :class:`random.Random`; ``dropped``);
* ``rate`` (kbit/s, None for no cap): the packet joins the bottleneck's queue and leaves it
  when the packets before it have been serialised at the rate; the queue holds at most
  ``queue_seconds`` worth of bytes at the rate (at least ``MIN_QUEUE_BYTES``), and a packet
  that does not fit is tail-dropped (``capped``), as a router's buffer would;
* ``delay``: the packet is then held ``delay`` seconds more (the propagation delay) and
  written to the other device (``forwarded``).

Every packet gets a due time never earlier than the previous packet's, so the link does not
reorder when the delay is lowered; the FIFO is therefore time-ordered and the thread sleeps
in ``poll`` until either a packet arrives or the head of the queue is due.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import random
import select
import threading
import time
from collections import deque

__all__ = ["MIN_QUEUE_BYTES", "Forwarder", "Impairment", "LinkStats"]

MIN_QUEUE_BYTES = 4500
"""The bottleneck's buffer is never smaller than three full-size packets, however low the cap."""
UDP = 17


@dataclasses.dataclass(frozen=True)
class LinkStats:
    """What one direction of an ImpairedLink did with the packets it read.

    ``received`` IPv4 packets came in; each was either ``dropped`` (cut, or the loss draw),
    ``blocked`` (UDP while UDP is blocked), ``capped`` (the rate cap's queue was full),
    ``overflowed`` (the delay queue was at its packet limit), still ``queued``, or
    ``forwarded`` (written to the far TUN; ``errors`` counts writes the kernel refused).
    ``ignored`` counts non-IPv4 packets (e.g. IPv6 router solicitations), never forwarded.
    """

    received: int = 0
    forwarded: int = 0
    dropped: int = 0
    blocked: int = 0
    capped: int = 0
    overflowed: int = 0
    errors: int = 0
    ignored: int = 0
    queued: int = 0


@dataclasses.dataclass
class Impairment:
    """What one direction does to packets; changed under the link's lock while it runs."""

    delay: float = 0.0
    loss: float = 0.0
    rate: float | None = None  # kbit/s
    queue_seconds: float = 0.3
    block_udp: bool = False
    cut: bool = False

    def queue_bytes(self) -> float:
        """The rate cap's buffer, in bytes."""
        if self.rate is None:
            return float("inf")
        return max(MIN_QUEUE_BYTES, self.rate * 1000 / 8 * self.queue_seconds)


class Forwarder(threading.Thread):
    """One direction: read packets from ``src``, impair them, write them to ``dst``."""

    def __init__(
        self,
        name: str,
        src: int,
        dst: int,
        impairment: Impairment,
        rng: random.Random,
        lock: threading.Lock,
        limit: int,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.src = src
        self.dst = dst
        self.impairment = impairment
        self.rng = rng
        self.lock = lock
        self.limit = limit
        self.queue: deque[tuple[float, bytes]] = deque()
        self.last_due = 0.0
        self.line_free = 0.0  # when the rate cap's bottleneck has sent all it holds
        self.counts = dict.fromkeys(
            (f.name for f in dataclasses.fields(LinkStats) if f.name != "queued"), 0
        )
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._stopping = False

    def stats(self) -> LinkStats:
        with self.lock:
            return LinkStats(**self.counts, queued=len(self.queue))

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close_pipe(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run(self) -> None:
        poller = select.poll()
        poller.register(self.src, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping:
            self._release(time.monotonic())
            if self.queue:
                wait_ms = max(0.0, (self.queue[0][0] - time.monotonic()) * 1000.0)
                timeout: float | None = wait_ms
            else:
                timeout = None
            try:
                events = poller.poll(timeout)
            except InterruptedError:
                continue
            for fd, _ in events:
                if fd == self._wake_r:
                    with contextlib.suppress(OSError):
                        os.read(self._wake_r, 64)
                elif fd == self.src:
                    self._read_all()

    def _read_all(self) -> None:
        while True:
            try:
                packet = os.read(self.src, 65536)
            except BlockingIOError:
                return
            except OSError as exc:  # the device went away (closing): stop reading
                if exc.errno in (errno.EBADF, errno.EIO, errno.EFAULT):
                    self._stopping = True
                    return
                raise
            now = time.monotonic()
            with self.lock:
                outcome = self._admit(packet, now)
                if outcome != "queued":
                    self.counts[outcome] += 1

    def _admit(self, packet: bytes, now: float) -> str:
        """Queue ``packet`` (or not): the name of the counter it goes to. Holds the lock."""
        if not packet or packet[0] >> 4 != 4:
            return "ignored"
        self.counts["received"] += 1
        imp = self.impairment
        if imp.cut:
            return "dropped"
        if imp.block_udp and len(packet) > 9 and packet[9] == UDP:
            return "blocked"
        if imp.loss > 0.0 and self.rng.random() < imp.loss:
            return "dropped"
        if len(self.queue) >= self.limit:
            return "overflowed"
        sent = now
        if imp.rate is not None:
            bytes_per_second = imp.rate * 1000 / 8
            start = max(now, self.line_free)
            backlog = (start - now) * bytes_per_second
            if backlog + len(packet) > imp.queue_bytes():
                return "capped"
            self.line_free = sent = start + len(packet) / bytes_per_second
        due = max(sent + imp.delay, self.last_due)
        self.last_due = due
        self.queue.append((due, packet))
        return "queued"

    def _release(self, now: float) -> None:
        while True:
            with self.lock:
                if not self.queue or self.queue[0][0] > now:
                    return
                _, packet = self.queue.popleft()
                # Counted before the write: once written, the receiver may react (and a
                # test read the counters) before this thread runs again.
                self.counts["forwarded"] += 1
            try:
                os.write(self.dst, packet)
            except OSError:
                with self.lock:
                    self.counts["forwarded"] -= 1
                    self.counts["errors"] += 1
