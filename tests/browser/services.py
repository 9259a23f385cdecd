"""PostgreSQL and Redis seen from inside the browser tests' namespace.

The services run on this machine's 127.0.0.1; the ``concord serve`` nodes of a cluster test
run inside the namespace (with Chromium), where 127.0.0.1 is the namespace's own loopback. A
``Forward`` listens on the namespace's 127.0.0.1:<port> (the socket is made inside it, see
``tests.netlab.inside``) and joins each connection to the same port on this machine's
127.0.0.1: traffic stays on loopback addresses at both ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass

from tests.netlab import inside


@dataclass(frozen=True)
class Named:
    name: str
    closed: bool = False

    @property
    def path(self) -> str:
        return f"/run/netns/{self.name}"


class Forward:
    """``close()`` stops listening and ends every forwarded connection (safe twice)."""

    def __init__(self, netns_name: str, port: int) -> None:
        self.port = port
        with inside(Named(netns_name)):
            self._listener = socket.create_server(("127.0.0.1", port))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name=f"forward {port}", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                inner, _ = self._listener.accept()
            except OSError:
                return
            try:
                outer = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                inner.close()
                continue
            outer.settimeout(None)
            with self._lock:
                self._open |= {inner, outer}
            for a, b in ((inner, outer), (outer, inner)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.close()
            self._open.clear()
