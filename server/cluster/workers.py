"""``concord serve --workers N``: N nodes of one cluster on this machine, on one public port.

One Python process forwards media on one core. With ``--workers N`` the command starts N
``concord serve`` processes ("workers"), each a node of the cluster with its own id
(``<this machine's node id>-<i>``) and its own media sockets. All of them listen on the public
port (``SO_REUSEPORT``: the kernel spreads new connections over them), so any worker serves
pages, the API and sockets. Each also listens on a port of its own, ``--port`` + i, which is
the URL it announces: a client whose room another worker holds is sent there
(``room_elsewhere``, ``room.moving``), and a proxy in front must pass those ports through as
it passes the public one. Rooms are placed on workers as on any nodes (rendezvous hashing
weighted by load), so a machine's conferences spread over its cores.

Workers share the database and Redis, so ``--workers`` is refused with SQLite (one file, one
writer at a time) or without Redis (where nodes find each other). The command waits for its
workers; SIGTERM or SIGINT stops them all (each hands its rooms over if another worker is
still up), and a worker that dies is started again after ``RESTART_AFTER`` seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from server.config import Config
from server.live.heartbeat import node_of

RESTART_AFTER = 1.0
"""Seconds before a worker that died is started again."""


def refusal(config: Config, workers: int) -> str | None:
    """Why ``--workers`` cannot run with this configuration (None: it can)."""
    if workers < 1:
        return f"--workers must be at least 1, not {workers}"
    if workers > 1 and config.is_sqlite:
        return (
            "--workers needs PostgreSQL (CONCORD_DATABASE_URL): several processes cannot share "
            "one SQLite file"
        )
    if workers > 1 and not config.redis_url:
        return "--workers needs Redis (CONCORD_REDIS_URL): the workers find each other there"
    return None


def worker_url(public_url: str, port: int) -> str:
    """The public URL with the worker's own port."""
    parts = urlsplit(public_url)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme, f"{host}:{port}", "", "", ""))


def listening(host: str, port: int, shared: bool) -> socket.socket:
    """A listening TCP socket; ``shared``: other processes may listen on the same port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Workers:
    """Starts the workers, restarts one that dies, stops all on SIGTERM/SIGINT (``run()``)."""

    def __init__(self, config: Config, count: int, config_file: Path | None) -> None:
        self.config, self.count, self.config_file = config, count, config_file
        self.base = node_of(config)
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def command(self, index: int) -> list[str]:
        options = ["--config", str(self.config_file)] if self.config_file else []
        host, port = self.config.host, self.config.port
        serve = ["serve", "--host", host, "--port", str(port), "--worker-port", str(port + index)]
        return [sys.executable, "-m", "server", *options, *serve]

    def environment(self, index: int) -> dict[str, str]:
        own = worker_url(self.config.public_url, self.config.port + index)
        return os.environ | {"CONCORD_NODE_ID": f"{self.base}-{index}", "CONCORD_NODE_URL": own}

    def start(self, index: int) -> None:
        self.processes[index] = subprocess.Popen(
            self.command(index), env=self.environment(index), stdin=subprocess.DEVNULL
        )

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        for index in range(1, self.count + 1):
            self.start(index)
        print(
            f"Concord is serving on {self.config.public_url} with {self.count} workers "
            f"(nodes {self.base}-1…{self.base}-{self.count}, own ports "
            f"{self.config.port + 1}…{self.config.port + self.count})",
            flush=True,
        )
        died: dict[int, float] = {}
        while not self.stopping:
            time.sleep(0.2)
            for index, process in list(self.processes.items()):
                if process.poll() is None or self.stopping:
                    continue
                died.setdefault(index, time.monotonic())
                if time.monotonic() - died[index] >= RESTART_AFTER:
                    print(f"worker {index} exited ({process.returncode}); starting it again")
                    del died[index]
                    self.start(index)
        return self.wait(list(self.processes.values()))

    @staticmethod
    def wait(processes: Sequence[subprocess.Popen[bytes]]) -> int:
        codes = [process.wait() for process in processes]
        return 0 if all(code == 0 for code in codes) else 1
