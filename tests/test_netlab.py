"""The network lab (tests/netlab.py): namespaces, `inside`, and the impaired TUN link.

A UDP echo server runs in namespace A on the link's 10.77.x.1, a client in namespace B;
the tests measure what the link does to round trips with and without impairment.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import cast

import pytest

from tests import netlab
from tests.netlab import ImpairedLink, LinkStats, Namespace, inside, netns_names, udp_socket

pytestmark = pytest.mark.skipif(
    not netlab.available(), reason=netlab.unavailable_reason() or "netlab unavailable"
)

# The lab's fixtures, made visible to pytest in this module.
netlab_namespace = netlab.netlab_namespace
netlab_link = netlab.netlab_link

ECHO_PORT = 7007
PROBE = struct.Struct("!Id")  # sequence number, send time


class EchoServer:
    """Echoes every UDP datagram back; its socket is made in ``ns``, its thread is not."""

    def __init__(self, ns: Namespace, host: str, port: int = ECHO_PORT) -> None:
        self.sock = udp_socket(ns, host, port)
        self.sock.setblocking(True)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="netlab-echo", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            self.sock.sendto(data, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[ImpairedLink, socket.socket]]:
    """Namespaces A and B, the link between them, A's echo server and B's client socket."""
    with Namespace() as a, Namespace() as b, ImpairedLink(a, b, seed=1234) as link:
        echo = EchoServer(a, link.addr_a)
        client = udp_socket(b, link.addr_b)
        client.setblocking(True)
        try:
            yield link, client
        finally:
            link.clear()
            client.close()
            echo.close()


def _drain(sock: socket.socket) -> None:
    sock.settimeout(0)
    while True:
        try:
            sock.recv(2048)
        except (BlockingIOError, TimeoutError):
            return


def probe(
    link: ImpairedLink, client: socket.socket, count: int, interval: float, linger: float
) -> tuple[list[float], int]:
    """Send ``count`` numbered probes every ``interval`` s; the RTTs of those answered.

    A receiver thread collects answers while probes go out, then waits ``linger`` s for
    the last ones, so a lost probe costs no timeout of its own. Returns (rtts, lost).
    """
    _drain(client)
    rtts: dict[int, float] = {}
    done = threading.Event()

    def receive() -> None:
        client.settimeout(0.05)
        while not done.is_set():
            try:
                data = client.recv(2048)
            except TimeoutError:
                continue
            seq, sent = PROBE.unpack(data)
            rtts.setdefault(seq, time.monotonic() - sent)

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    start = time.monotonic()
    for seq in range(count):
        # Pace against the schedule (not sleep-per-packet) so the rate does not drift.
        pause = start + seq * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        client.sendto(PROBE.pack(seq, time.monotonic()), (link.addr_a, ECHO_PORT))
    time.sleep(linger)
    done.set()
    receiver.join()
    client.settimeout(None)
    return list(rtts.values()), count - len(rtts)


def _delta(after: LinkStats, before: LinkStats) -> LinkStats:
    return LinkStats(
        **{
            f.name: getattr(after, f.name) - getattr(before, f.name)
            for f in LinkStats.__dataclass_fields__.values()
        }
    )


def test_clean_link_is_fast_and_lossless(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, client = lab
    link.clear()
    rtts, lost = probe(link, client, count=200, interval=0.002, linger=0.2)
    assert lost == 0
    # A percentile, not the max: on an overloaded machine a few probes wait for the CPU
    # (Python threads at both ends), which says nothing about the link.
    p90 = statistics.quantiles(rtts, n=10)[-1]
    assert p90 < 0.020, f"p90 RTT {p90 * 1000:.1f} ms, max {max(rtts) * 1000:.1f} ms"


def test_delay_is_added_each_way(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, client = lab
    link.impair(delay=0.150, loss=0.0)
    try:
        assert link.impairment("a_to_b") == (0.150, 0.0)
        assert link.impairment("b_to_a") == (0.150, 0.0)
        # 50 probes 20 ms apart: ~15 in flight at once, each released at its own time.
        rtts, lost = probe(link, client, count=50, interval=0.020, linger=0.5)
    finally:
        link.clear()
    assert lost == 0
    median = statistics.median(rtts)
    assert 0.290 <= median <= 0.350, f"median RTT {median * 1000:.1f} ms"
    assert min(rtts) >= 0.299, f"min RTT {min(rtts) * 1000:.1f} ms"


def test_one_way_delay(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, client = lab
    link.impair(delay=0.100, direction="b_to_a")
    try:
        assert link.impairment("a_to_b") == (0.0, 0.0)
        rtts, lost = probe(link, client, count=20, interval=0.010, linger=0.3)
    finally:
        link.clear()
    assert lost == 0
    assert 0.099 <= statistics.median(rtts) <= 0.130


def test_loss_both_ways_and_counters(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, client = lab
    before = {d: link.stats(d) for d in ("a_to_b", "b_to_a")}
    link.impair(loss=0.05)
    try:
        _, lost = probe(link, client, count=1000, interval=0.001, linger=0.3)
    finally:
        link.clear()
    # Requests go B -> A, echoes A -> B: expected round-trip loss 1 - 0.95² = 9.75 %.
    assert 50 <= lost <= 150, f"lost {lost} of 1000"
    up = _delta(link.stats("b_to_a"), before["b_to_a"])
    down = _delta(link.stats("a_to_b"), before["a_to_b"])
    assert up.received == 1000
    assert up.dropped + up.forwarded == 1000
    assert down.received == up.forwarded
    assert down.dropped + down.forwarded == down.received
    assert up.dropped + down.dropped == lost
    assert 20 <= up.dropped <= 80 and 20 <= down.dropped <= 80
    assert up.overflowed == down.overflowed == up.errors == down.errors == 0

    # Cleared: clean again.
    rtts, lost = probe(link, client, count=200, interval=0.001, linger=0.2)
    assert lost == 0
    assert statistics.median(rtts) < 0.020


def test_total_loss_one_way(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, client = lab
    link.impair(loss=1.0, direction="a_to_b")
    try:
        rtts, lost = probe(link, client, count=20, interval=0.001, linger=0.1)
    finally:
        link.clear()
    assert rtts == [] and lost == 20


def test_impair_rejects_nonsense(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, _ = lab
    with pytest.raises(ValueError):
        link.impair(loss=1.5)
    with pytest.raises(ValueError):
        link.impair(delay=-1)
    with pytest.raises(ValueError):
        link.impair(delay=0.1, direction="sideways")  # type: ignore[arg-type]
    assert link.impairment("a_to_b") == (0.0, 0.0)


class _Echo(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector transport does not subclass DatagramTransport: cast.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.answers.put_nowait(data)


async def test_asyncio_endpoints_keep_their_namespace(
    netlab_link: Callable[..., ImpairedLink],
) -> None:
    """Sockets made inside namespaces serve the main thread's event loop after leaving."""
    link = netlab_link(seed=7)
    loop = asyncio.get_running_loop()
    home = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # The main thread is back home: 10.77.x.y does not exist here.
        with pytest.raises(OSError):
            home.bind((link.addr_a, 0))
    finally:
        home.close()

    with inside(link.a):
        server_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server_sock.bind((link.addr_a, 0))
    server, _ = await loop.create_datagram_endpoint(_Echo, sock=server_sock)
    client, proto = await loop.create_datagram_endpoint(
        _Client, sock=udp_socket(link.b, link.addr_b)
    )
    try:
        port = server_sock.getsockname()[1]
        link.impair(delay=0.05)
        for i in range(5):
            sent = time.monotonic()
            client.sendto(b"ping %d" % i, (link.addr_a, port))
            assert await asyncio.wait_for(proto.answers.get(), 2) == b"ping %d" % i
            assert 0.099 <= time.monotonic() - sent < 0.25
        assert link.stats("b_to_a").forwarded == link.stats("a_to_b").forwarded == 5
    finally:
        client.close()
        server.close()


def test_namespaces_and_devices_are_gone_after_close() -> None:
    a, b = Namespace(), Namespace()
    link = ImpairedLink(a, b)
    assert {a.name, b.name} <= set(netns_names())
    assert link.dev_a in a.ip("-o", "link", "show")
    link.close()
    link.close()
    assert link.dev_a not in a.ip("-o", "link", "show")
    a.close()
    b.close()
    b.close()
    assert not {a.name, b.name} & set(netns_names())
    with pytest.raises(RuntimeError), inside(a):
        pass


def test_factories_tear_down_after_failure() -> None:
    """A failing body still leaves nothing behind (what the fixtures' finalisers run)."""
    names: list[str] = []
    with pytest.raises(AssertionError):
        with netlab.namespace_factory() as make_ns, netlab.link_factory(make_ns) as make_link:
            link = make_link()
            names += [link.a.name, link.b.name]
            assert set(names) <= set(netns_names())
            raise AssertionError("the test failed")
    assert not set(names) & set(netns_names())
    prefix = f"netlab-{link.index}-"
    assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]


# --- rate cap, UDP blocking, outages ----------------------------------------------------------


def _tcp_pair(link: ImpairedLink) -> tuple[socket.socket, socket.socket]:
    """A TCP connection across the link: (the client in B, the accepted socket in A)."""
    with inside(link.a):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with inside(link.b):
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((link.addr_a, 0))
        listener.listen(1)
        client.settimeout(5)
        client.connect((link.addr_a, listener.getsockname()[1]))
        listener.settimeout(5)
        accepted, _ = listener.accept()
    except BaseException:
        client.close()
        raise
    finally:
        listener.close()
    return client, accepted


def _sink(sock: socket.socket, arrivals: list[tuple[float, int]], size: int) -> threading.Thread:
    """A thread that reads ``sock`` and notes (time, bytes) of each read until EOF/timeout."""

    def run() -> None:
        sock.settimeout(1.0)
        while True:
            try:
                data = sock.recv(size)
            except (TimeoutError, OSError):
                return
            if not data:
                return
            arrivals.append((time.monotonic(), len(data)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _rate_kbps(arrivals: list[tuple[float, int]], overhead: int = 0) -> float:
    """The rate between the first and the last arrival (the first one's bytes not counted)."""
    span = arrivals[-1][0] - arrivals[0][0]
    return sum(n + overhead for _, n in arrivals[1:]) * 8 / span / 1000


def test_udp_is_serialised_at_the_cap_and_the_excess_dropped(
    lab: tuple[ImpairedLink, socket.socket],
) -> None:
    link, client = lab
    cap = 2000  # kbit/s: 250 kB/s
    link.cap(cap, direction="b_to_a")
    before = link.stats("b_to_a")
    sink = udp_socket(link.a, link.addr_a)
    sink.setblocking(True)
    arrivals: list[tuple[float, int]] = []
    try:
        reader = _sink(sink, arrivals, 2048)
        # 1000-byte datagrams (1028 on the wire) at twice the cap for one second.
        start = time.monotonic()
        for seq in range(500):
            pause = start + seq * 0.002 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            client.sendto(bytes(1000), (link.addr_a, sink.getsockname()[1]))
        stopped = time.monotonic()
        reader.join()
    finally:
        link.clear()
        sink.close()
    rate = _rate_kbps(arrivals, overhead=28)
    assert 0.92 * cap <= rate <= 1.03 * cap, f"{rate:.0f} kbit/s through a {cap} kbit/s cap"
    after = _delta(link.stats("b_to_a"), before)
    assert after.received == 500 and after.forwarded == len(arrivals)
    assert after.capped + after.forwarded == 500
    # What the cap lets through: the sending time plus the queue's 300 ms, at the cap.
    expected = (stopped - start + 0.3) * cap * 1000 / 8 / 1028
    assert abs(after.forwarded - expected) <= 15, (after, expected)
    # The queue holds ~300 ms at the cap: the last packet leaves within that of the sender.
    assert arrivals[-1][0] - stopped < 0.4


def test_tcp_fills_the_cap_and_no_more(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, _ = lab
    cap = 4000  # kbit/s: 500 kB/s
    link.cap(cap)
    client, server = _tcp_pair(link)
    arrivals: list[tuple[float, int]] = []
    try:
        reader = _sink(server, arrivals, 65536)
        client.sendall(bytes(600_000))  # ~1.2 s at the cap
        client.shutdown(socket.SHUT_WR)
        reader.join()
    finally:
        link.clear()
        client.close()
        server.close()
    assert sum(n for _, n in arrivals) == 600_000
    rate = _rate_kbps(arrivals)
    # Payload only (TCP/IP headers take ~4 %), after slow start: most of the cap, never more.
    assert 0.7 * cap <= rate <= 1.0 * cap, f"TCP goodput {rate:.0f} kbit/s, cap {cap}"


def test_cap_rejects_nonsense(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, _ = lab
    with pytest.raises(ValueError, match="rate cap"):
        link.cap(0)
    with pytest.raises(ValueError, match="queue_seconds"):
        link.cap(100, queue_seconds=0)


def test_blocking_udp_drops_udp_and_passes_tcp(lab: tuple[ImpairedLink, socket.socket]) -> None:
    link, client = lab
    before = link.stats("b_to_a")
    link.block_udp(direction="b_to_a")
    try:
        _, lost = probe(link, client, count=20, interval=0.001, linger=0.1)
        assert lost == 20
        assert _delta(link.stats("b_to_a"), before).blocked == 20
        tcp_client, tcp_server = _tcp_pair(link)
        with tcp_client, tcp_server:
            tcp_client.sendall(b"over tcp")
            assert tcp_server.recv(64) == b"over tcp"
            tcp_server.sendall(b"and back")
            assert tcp_client.recv(64) == b"and back"
        link.block_udp(False)
        _, lost = probe(link, client, count=20, interval=0.001, linger=0.1)
        assert lost == 0
    finally:
        link.clear()


def test_cut_and_restore_keep_the_other_impairments(
    lab: tuple[ImpairedLink, socket.socket],
) -> None:
    link, client = lab
    link.impair(delay=0.05)
    try:
        link.cut()
        _, lost = probe(link, client, count=20, interval=0.001, linger=0.2)
        assert lost == 20
        link.restore()
        rtts, lost = probe(link, client, count=20, interval=0.005, linger=0.3)
        assert lost == 0
        assert 0.099 <= statistics.median(rtts) <= 0.140
    finally:
        link.clear()
