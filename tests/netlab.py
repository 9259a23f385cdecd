"""A small network lab for tests: namespaces joined by an impaired point-to-point link.

Why this exists: some tests need one conference site (a WebRTC peer) to reach the server
over a bad link (loss, delay) while the other sites stay on loopback. The usual tool,
``tc qdisc ... netem``, is not built into the kernel we run on (no ``sch_netem``, no
``fq``, no nftables/iptables binaries). What the kernel does have is network namespaces
and TUN devices, so the impairment is done in user space instead:

* :class:`Namespace` creates a named network namespace (``ip netns add``) that only this
  test uses, so every address configured in it is invisible to the machine's real
  interfaces. Tests may send traffic only to loopback or to addresses inside namespaces
  they created; the 10.77.0.0/16 addresses used here exist only inside those namespaces.
* :func:`inside` switches the *calling thread* into a namespace (``setns(2)`` via ctypes,
  since ``os.setns`` only arrived in Python 3.12) and back. A socket belongs for life to
  the namespace it was created in, so an asyncio program can create a socket "inside" a
  namespace, leave it again, and keep using the socket from its event loop.
* :class:`ImpairedLink` joins two namespaces with a pair of TUN devices (one in each) and
  moves IPv4 packets between their file descriptors from user-space threads: each packet
  is dropped with the configured probability (a seeded :class:`random.Random`, so runs are
  reproducible) or held in a time-ordered queue and written to the other side when its
  one-way delay has elapsed. Delay and loss are per direction and can be changed while
  the link carries traffic; per-direction counters let tests check what the link did.
  A direction can also be capped to a rate (kbit/s: packets are serialised at the cap
  through a bounded queue, tail-dropped beyond it), made to drop UDP (to force TCP), or
  cut altogether for an outage (:meth:`ImpairedLink.cut` / :meth:`ImpairedLink.restore`).
  The per-direction engine is :mod:`tests.netlab_forward`.

Everything has an idempotent ``close()`` and is a context manager; the pytest fixtures at
the bottom (:func:`netlab_namespace`, :func:`netlab_link` factories) tear down even when a
test fails. Requires root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and the ``ip`` binary.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import itertools
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Literal, Protocol, Self

import pytest

from tests.netlab_forward import Forwarder, Impairment, LinkStats

__all__ = [
    "Direction",
    "ImpairedLink",
    "LinkStats",
    "Namespace",
    "available",
    "inside",
    "link_factory",
    "namespace_factory",
    "netlab_link",
    "netlab_namespace",
    "netns_names",
    "udp_socket",
    "unavailable_reason",
]

Direction = Literal["a_to_b", "b_to_a"]
Which = Literal["both", "a_to_b", "b_to_a"]

# setns(2) / TUN constants (linux/sched.h, linux/if_tun.h).
CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

_IP = shutil.which("ip")
_names = itertools.count()
_links = itertools.count()


def unavailable_reason() -> str | None:
    """Why the lab cannot run here (for ``pytest.mark.skipif``), or None if it can."""
    if os.geteuid() != 0:
        return "netlab needs root (network namespaces, TUN devices)"
    if _IP is None:
        return "netlab needs the `ip` binary (iproute2)"
    if not os.path.exists("/dev/net/tun"):
        return "netlab needs /dev/net/tun (CONFIG_TUN)"
    if not os.path.exists("/proc/self/ns/net"):
        return "netlab needs network namespaces (CONFIG_NET_NS)"
    return None


def available() -> bool:
    """True when :func:`unavailable_reason` has nothing to say."""
    return unavailable_reason() is None


def _ip(*args: str) -> str:
    """Run ``ip ARGS`` and return its stdout; raise with its stderr on failure."""
    if _IP is None:
        raise RuntimeError("the `ip` binary is missing")
    done = subprocess.run([_IP, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def netns_names() -> list[str]:
    """Names listed by ``ip netns list`` (the first word of each line)."""
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


class Namespace:
    """A named network namespace owned by one test, with ``lo`` up; deleted on close().

    The name is unique per process and use (``concord-<pid>-<n>``) so parallel test
    processes and leftovers from a crashed run cannot collide with it.
    """

    def __init__(self, prefix: str = "concord") -> None:
        self.name = f"{prefix}-{os.getpid()}-{next(_names)}"
        self.path = f"/run/netns/{self.name}"
        self._closed = False
        _ip("netns", "add", self.name)
        try:
            self.ip("link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    def ip(self, *args: str) -> str:
        """Run ``ip -n <name> ARGS`` (a command in this namespace)."""
        return _ip("-n", self.name, *args)

    def close(self) -> None:
        """Delete the namespace (safe to call twice).

        ``ip netns del`` removes the name; the kernel frees the namespace once the last
        socket or TUN descriptor created in it is closed, so close those first.
        """
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(RuntimeError):
            _ip("netns", "del", self.name)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Namespace({self.name!r})"


class Entered(Protocol):
    """Any named namespace: ``/run/netns/<name>`` (this module's, or ``ip netns add``'s)."""

    @property
    def path(self) -> str: ...

    @property
    def closed(self) -> bool: ...


@contextlib.contextmanager
def inside(ns: Entered) -> Iterator[None]:
    """Run the block with the *calling thread* in ``ns``'s network namespace.

    Sockets (and TUN devices) created in the block belong to ``ns`` for their whole
    life, even after the thread switches back. Other threads are not affected. Do not
    ``await`` inside the block: other tasks of the event loop would run in ``ns`` too;
    create the socket here and hand it to asyncio afterwards (see :func:`udp_socket`).
    """
    if ns.closed:
        raise RuntimeError(f"{ns!r} is closed")
    # Opened before switching: the way back for this thread, whatever namespace it is in.
    home = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    try:
        target = os.open(ns.path, os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def udp_socket(ns: Namespace, host: str, port: int = 0) -> socket.socket:
    """A non-blocking IPv4 UDP socket created in ``ns`` and bound to (host, port).

    Usable from any thread afterwards, e.g. with
    ``loop.create_datagram_endpoint(factory, sock=udp_socket(ns, addr))``.
    """
    with inside(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _open_tun(name: str) -> int:
    """Create TUN device ``name`` (IFF_TUN | IFF_NO_PI) in the thread's namespace; its fd.

    The device lives as long as the fd (it is not persistent) and is created in the
    namespace of the opening thread, so it never appears among the host's interfaces.
    """
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _disable_ipv6(dev: str) -> None:
    """Switch IPv6 off on ``dev`` in the thread's namespace (no RS/MLD chatter on the link).

    /proc/sys/net is resolved against the namespace of the calling *thread*, so this is
    called from within :func:`inside`. Kernels without IPv6 have no such file: fine.
    """
    with (
        contextlib.suppress(OSError),
        open(f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6", "w") as f,
    ):
        f.write("1")


class ImpairedLink:
    """A point-to-point IPv4 link between namespaces ``a`` and ``b`` with user-space netem.

    Side ``a`` gets ``addr_a`` (10.77.<n>.1/30) on TUN device ``dev_a``, side ``b`` gets
    ``addr_b`` (10.77.<n>.2/30) on ``dev_b``; the connected /30 route is all either side
    needs to reach the other. Packets the kernel sends out of ``dev_a`` are read by the
    ``a_to_b`` thread and written into ``dev_b`` (as if received there), and vice versa;
    IP headers are passed through untouched, so checksums stay valid.

    ``limit`` bounds the packets queued per direction (like netem's ``limit``); the TUN
    devices keep the kernel's default MTU of 1500 and txqueuelen of 500.
    """

    def __init__(
        self,
        a: Namespace,
        b: Namespace,
        *,
        seed: int = 0,
        limit: int = 10_000,
        index: int | None = None,
    ) -> None:
        n = next(_links) if index is None else index
        self.index = n
        self.a = a
        self.b = b
        self.subnet = f"10.77.{n % 256}.0/30"
        self.addr_a = f"10.77.{n % 256}.1"
        self.addr_b = f"10.77.{n % 256}.2"
        self.dev_a = f"nl{n}a"
        self.dev_b = f"nl{n}b"
        self._lock = threading.Lock()
        self._impairments: dict[Direction, Impairment] = {
            "a_to_b": Impairment(),
            "b_to_a": Impairment(),
        }
        self._fds: list[int] = []
        self._forwarders: dict[Direction, Forwarder] = {}
        self._closed = False
        try:
            fd_a = self._make_side(a, self.dev_a, self.addr_a)
            fd_b = self._make_side(b, self.dev_b, self.addr_b)
            sides: tuple[tuple[Direction, int, int, int], ...] = (
                ("a_to_b", fd_a, fd_b, 1),
                ("b_to_a", fd_b, fd_a, 2),
            )
            for direction, src, dst, salt in sides:
                fwd = Forwarder(
                    f"netlab-{n}-{direction}",
                    src,
                    dst,
                    self._impairments[direction],
                    random.Random(seed * 2 + salt),
                    self._lock,
                    limit,
                )
                self._forwarders[direction] = fwd
                fwd.start()
        except BaseException:
            self.close()
            raise

    def _make_side(self, ns: Namespace, dev: str, addr: str) -> int:
        with inside(ns):
            fd = _open_tun(dev)
            self._fds.append(fd)
            _disable_ipv6(dev)
        ns.ip("addr", "add", f"{addr}/30", "dev", dev)
        ns.ip("link", "set", dev, "up")
        return fd

    def _directions(self, direction: Which) -> list[Direction]:
        if direction == "both":
            return ["a_to_b", "b_to_a"]
        if direction in ("a_to_b", "b_to_a"):
            return [direction]
        raise ValueError(f"direction must be 'both', 'a_to_b' or 'b_to_a', not {direction!r}")

    def impair(
        self, delay: float | None = None, loss: float | None = None, direction: Which = "both"
    ) -> None:
        """Set the one-way ``delay`` (seconds) and/or ``loss`` (0..1) of ``direction``.

        Takes effect for packets read from now on; packets already queued keep their due
        time. A parameter left as None keeps its current value.
        """
        if delay is not None and delay < 0:
            raise ValueError(f"delay must be >= 0, not {delay}")
        if loss is not None and not 0.0 <= loss <= 1.0:
            raise ValueError(f"loss must be within 0..1, not {loss}")
        with self._lock:
            for d in self._directions(direction):
                if delay is not None:
                    self._impairments[d].delay = delay
                if loss is not None:
                    self._impairments[d].loss = loss

    def cap(
        self, kbps: float | None, queue_seconds: float = 0.3, direction: Which = "both"
    ) -> None:
        """Cap ``direction`` to ``kbps`` kbit/s (None: no cap) with a buffer of
        ``queue_seconds`` worth of bytes at that rate (at least three full-size packets);
        packets that find it full are dropped (counted ``capped``)."""
        if kbps is not None and not kbps > 0:
            raise ValueError(f"the rate cap must be > 0 kbit/s (or None), not {kbps}")
        if not queue_seconds > 0:
            raise ValueError(f"queue_seconds must be > 0, not {queue_seconds}")
        with self._lock:
            for d in self._directions(direction):
                self._impairments[d].rate = kbps
                self._impairments[d].queue_seconds = queue_seconds

    def block_udp(self, blocked: bool = True, direction: Which = "both") -> None:
        """Drop (``blocked``) or pass again the IPv4 UDP packets of ``direction``."""
        with self._lock:
            for d in self._directions(direction):
                self._impairments[d].block_udp = blocked

    def cut(self, direction: Which = "both") -> None:
        """An outage: drop every packet of ``direction`` until :meth:`restore` (the other
        impairments are kept for afterwards; packets already queued are still delivered)."""
        with self._lock:
            for d in self._directions(direction):
                self._impairments[d].cut = True

    def restore(self, direction: Which = "both") -> None:
        """End the outage :meth:`cut` started on ``direction``."""
        with self._lock:
            for d in self._directions(direction):
                self._impairments[d].cut = False

    def clear(self, direction: Which = "both") -> None:
        """A clean link on ``direction``: no delay, loss, cap, UDP blocking or cut (queued
        packets are still delivered)."""
        with self._lock:
            for d in self._directions(direction):
                vars(self._impairments[d]).update(vars(Impairment()))

    def impairment(self, direction: Direction) -> tuple[float, float]:
        """The (delay, loss) currently set on ``direction``."""
        with self._lock:
            imp = self._impairments[direction]
            return imp.delay, imp.loss

    def stats(self, direction: Direction) -> LinkStats:
        """A snapshot of ``direction``'s counters since the link was made."""
        return self._forwarders[direction].stats()

    def close(self) -> None:
        """Stop the forwarding threads and close the TUN fds (which deletes the devices).

        Safe to call twice. The namespaces are left to their owners.
        """
        if self._closed:
            return
        self._closed = True
        for fwd in self._forwarders.values():
            fwd.stop()
        for fwd in self._forwarders.values():
            fwd.join(timeout=5)
            fwd.close_pipe()
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ImpairedLink({self.a.name}:{self.addr_a} <-> {self.b.name}:{self.addr_b})"


# --- teardown-safe factories and pytest fixtures ------------------------------------
# Import the fixtures into a test module (or a conftest) to use them, e.g.
# `netlab_link = netlab.netlab_link` at module level. Both are factories so a test can
# make several; whatever was made is closed at teardown even if the test failed (links
# before namespaces). The context managers behind them work without pytest too.


@contextlib.contextmanager
def namespace_factory() -> Iterator[Callable[[], Namespace]]:
    """Yield ``make()`` -> new :class:`Namespace`; all are deleted on exit, even on error."""
    made: list[Namespace] = []

    def make() -> Namespace:
        ns = Namespace()
        made.append(ns)
        return ns

    try:
        yield make
    finally:
        for ns in reversed(made):
            ns.close()


@contextlib.contextmanager
def link_factory(
    make_namespace: Callable[[], Namespace],
) -> Iterator[Callable[..., ImpairedLink]]:
    """Yield ``make(a=None, b=None, seed=0)`` -> new :class:`ImpairedLink`; closed on exit.

    Missing namespaces come from ``make_namespace`` (whose owner must close them after
    this factory has exited, so sockets and TUN fds go before their namespaces).
    """
    made: list[ImpairedLink] = []

    def make(a: Namespace | None = None, b: Namespace | None = None, seed: int = 0) -> ImpairedLink:
        link = ImpairedLink(a or make_namespace(), b or make_namespace(), seed=seed)
        made.append(link)
        return link

    try:
        yield make
    finally:
        for link in reversed(made):
            link.close()


@pytest.fixture
def netlab_namespace() -> Iterator[Callable[[], Namespace]]:
    """A factory of :class:`Namespace` objects, all deleted after the test."""
    with namespace_factory() as make:
        yield make


@pytest.fixture
def netlab_link(
    netlab_namespace: Callable[[], Namespace],
) -> Iterator[Callable[..., ImpairedLink]]:
    """A factory ``make(a=None, b=None, seed=0)`` of :class:`ImpairedLink` objects.

    Missing namespaces are made with ``netlab_namespace`` (so they outlive the links).
    """
    with link_factory(netlab_namespace) as make:
        yield make
