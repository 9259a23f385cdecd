"""A cluster on this machine: ``concord serve`` nodes on 127.0.0.1 ports sharing one PostgreSQL
database (filled by ``concord demo``) and one Redis.

The cluster benchmark (``bench.cluster``) and the tests that kill and drain nodes
(``tests/cluster/test_failover.py``) share it. Each node has its own data directory (its node
id, recordings) and public URL; all share the secret key, as the nodes of one installation do.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import update

from bench.served import ROOT, Served, free_port
from server.cluster.nodes import Load
from server.cluster.nodes import Node as NodeEntry
from server.cluster.rendezvous import score
from server.db import Database
from server.models import Conference, ConferenceStatus


def base_placing_apart(first: int, second: int) -> str:
    """A node id base for ``--workers 2`` such that rendezvous places room ``first`` on worker
    1 and ``second`` on worker 2, each by a wide margin (its score 5 times the other's at equal
    load: the CPU the workers measure cannot move them). A benchmark or test that wants one
    room per worker says so with this, rather than hoping for the hash."""
    for n in itertools.count():
        one, two = _idle(f"w{n}-1"), _idle(f"w{n}-2")
        if score(one, first) > 5 * score(two, first) and score(two, second) > 5 * score(
            one, second
        ):
            return f"w{n}"
    raise AssertionError("unreachable")


def _idle(node_id: str) -> NodeEntry:
    return NodeEntry(node_id, "", (), 0.0, 0.0, Load())


async def hold_live(database_url: str, conferences: Sequence[int]) -> None:
    """Hold these conferences live whatever their dates (their rooms may open)."""
    database = Database(database_url)
    try:
        async with database.session() as db, db.begin():
            await db.execute(
                update(Conference)
                .where(Conference.id.in_(list(conferences)))
                .values(status=ConferenceStatus.LIVE)
            )
    finally:
        await database.close()


def cluster_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """What every node of the cluster shares; each node adds its data directory and URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    return env | {
        "CONCORD_DATABASE_URL": database_url,
        "CONCORD_REDIS_URL": redis_url,
        "CONCORD_SECRET_KEY": secrets.token_hex(32),
        "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
        "CONCORD_ARGON2_TIME_COST": "1",
        "CONCORD_ARGON2_MEMORY_KIB": "1024",
        "PYTHONPATH": str(ROOT),
    }


class Node(Served):
    """One node: ``name`` is its node id (written to its data directory before it starts)."""

    def __init__(self, shared: dict[str, str], name: str, folder: Path) -> None:
        port = free_port()
        data = folder / name
        data.mkdir(parents=True, exist_ok=True)
        (data / "node-id").write_text(name + "\n")
        env = shared | {
            "CONCORD_DATA_DIR": str(data),
            "CONCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        super().__init__(env, port, folder / f"{name}.log")
        self.name = name

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Cluster:
    """``await start()`` its nodes, then ``stop()`` (SIGTERM to those still running)."""

    def __init__(self, shared: dict[str, str], names: Sequence[str], folder: Path) -> None:
        self.shared, self.folder = shared, folder
        self.nodes = {name: Node(shared, name, folder) for name in names}

    def demo(self) -> None:
        """``concord demo`` into the shared database (once, before the nodes start)."""
        first = next(iter(self.nodes.values()))
        command = [sys.executable, "-m", "server", "demo"]
        subprocess.run(
            command, env=first.env, cwd=ROOT, capture_output=True, check=True, timeout=300
        )

    async def start(self) -> None:
        await asyncio.gather(*(node.start() for node in self.nodes.values()))

    def add(self, name: str) -> Node:
        node = self.nodes[name] = Node(self.shared, name, self.folder)
        return node

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def stop(self) -> None:
        """SIGTERM to every node still running at once, then wait for each."""
        for node in self.nodes.values():
            if node.alive():
                assert node.process is not None
                node.process.terminate()
        for node in self.nodes.values():
            with contextlib.suppress(Exception):
                node.wait_stopped()


async def fresh_database(admin_url: str) -> str:
    """A new, empty PostgreSQL database next to ``admin_url``'s; its URL."""
    import asyncpg

    name = f"concord_bench_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(admin_url: str, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()
