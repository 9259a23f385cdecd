"""A served ``python -m server serve`` on 127.0.0.1 in a subprocess, its output in a log file.

The restart benchmark (``bench.restart``) and the tests that stop, kill and restart a real
server (``tests/room_recording/test_crash.py`` and others) share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from server.demo.data import demo_password

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def demo_environment(folder: Path, port: int, live: int, root: Path = ROOT) -> dict[str, str]:
    """The environment of a server on ``port`` with its data in ``folder``, after ``concord
    demo`` (of the code in ``root``: another checkout, for a baseline) filled it; conference
    ``live`` is held live (its room can open whatever its dates). Every aiortc peer of the
    server gathers candidates on 127.0.0.1 only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env |= {
        "CONCORD_DATA_DIR": str(folder),
        "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
        "CONCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CONCORD_ARGON2_TIME_COST": "1",
        "CONCORD_ARGON2_MEMORY_KIB": "1024",
        "PYTHONPATH": str(root),
    }
    demo = [sys.executable, "-m", "server", "demo"]
    subprocess.run(demo, env=env, cwd=root, capture_output=True, check=True, timeout=300)
    with sqlite3.connect(folder / "concord.db") as db:
        db.execute("UPDATE conferences SET status = 'live' WHERE id = ?", (live,))
    return env


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """The files of commit ``rev`` in a temporary folder, removed afterwards, for a baseline
    server (``git archive``: the repository and its work tree are not touched)."""
    with tempfile.TemporaryDirectory(prefix="concord-baseline-") as folder:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True)
        if archive.returncode != 0:
            raise SystemExit(f"baseline {rev!r}: {archive.stderr.decode(errors='replace')}")
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield Path(folder)


async def api_token(base: str, email: str, name: str) -> str:
    """Sign in as the demo user ``email`` and make an API token called ``name``."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        body = {"email": email, "password": demo_password(email)}
        async with http.post(base + "/api/session", json=body) as signed:
            if signed.status != 201:
                raise RuntimeError(f"sign-in refused: {await signed.text()}")
            csrf = (await signed.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        async with http.post(base + "/api/tokens", json={"name": name}, headers=headers) as made:
            if made.status != 201:
                raise RuntimeError(f"no token: {await made.text()}")
            return str((await made.json())["token"])


class Served:
    """``start()`` it, then ``stop()`` (SIGTERM, as a service manager does) or ``kill()``.
    It serves the code in ``root`` (this checkout, or another one for a baseline)."""

    def __init__(self, env: dict[str, str], port: int, log: Path, root: Path = ROOT) -> None:
        self.env, self.port, self.log, self.root = env, port, log, root
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "server", "serve"]
        with self.log.open("ab") as out:
            return subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def start(self, limit: float = 60.0) -> float:
        """Start it; the ``time.monotonic()`` at which ``/healthz`` first answered 200."""
        self.process = self.launch()
        deadline = time.monotonic() + limit
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited:\n{self._tail()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.url + "/healthz") as answer:
                        if answer.status == 200:
                            return time.monotonic()
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not answer within {limit} s:\n{self._tail()}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait for it to end (SIGKILL after 20 s); nothing if it has ended."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.wait_stopped()

    def wait_stopped(self) -> None:
        """Wait for a process told to stop to end (SIGKILL after 20 s)."""
        if self.process is not None:
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]
