"""Nodes announced in Redis on a lease, and ``concord nodes`` (issue 16, part 1).

Against the real Redis (tests/conftest.py ``redis_url``): in-process leases under a prefix of
their own, then two served ``concord serve`` processes listed by the real command, one stopped
(out of the list at once) and one killed (out when its lease ends).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
import redis.asyncio

from bench.served import ROOT, Served, free_port
from server.cluster.cli import table
from server.cluster.nodes import Load, Node, NodeLease, live_nodes


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    connection = redis.asyncio.from_url(redis_url)
    yield connection
    await connection.aclose()


class Timing(TypedDict, total=False):
    """``NodeLease``'s timing keywords a test may shorten."""

    lease: float
    every: float


def _lease(
    client: redis.asyncio.Redis, prefix: str, node: str, load: Load, **timing: Unpack[Timing]
) -> NodeLease:
    return NodeLease(
        client,
        node,
        f"https://{node}.example",
        ("127.0.0.1",),
        lambda: load,
        prefix=prefix,
        **timing,
    )


async def test_nodes_are_listed_with_their_load_and_a_stopped_one_leaves_at_once(
    client: redis.asyncio.Redis,
) -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    a = _lease(client, prefix, "node-a", Load(rooms=2, sites=9, forwarded_pps=812.5, cpu=0.41))
    b = _lease(client, prefix, "node-b", Load())
    await a.start()
    await b.start()
    try:
        nodes = await live_nodes(client, prefix)
        assert [n.id for n in nodes] == ["node-a", "node-b"]
        assert nodes[0].url == "https://node-a.example"
        assert nodes[0].ice_addresses == ("127.0.0.1",)
        assert nodes[0].load == Load(rooms=2, sites=9, forwarded_pps=812.5, cpu=0.41)
        await b.close()
        await b.close()  # (safe twice)
        assert [n.id for n in await live_nodes(client, prefix)] == ["node-a"]
    finally:
        await a.close()
    assert await live_nodes(client, prefix) == []
    assert await client.keys(prefix + "*") == []  # nothing left behind


async def test_a_node_that_stops_beating_leaves_the_list_when_its_lease_ends(
    client: redis.asyncio.Redis,
) -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    lease = _lease(client, prefix, "node-a", Load(), lease=0.6, every=0.1)
    await lease.start()
    await asyncio.sleep(0.8)  # longer than the lease: the beats renewed it
    assert [n.id for n in await live_nodes(client, prefix)] == ["node-a"]
    assert lease._task is not None
    lease._task.cancel()  # the process dies: no more beats, no goodbye
    await asyncio.sleep(1.0)
    assert await live_nodes(client, prefix) == []
    assert await client.zcard(prefix + "nodes") == 0  # (pruned by the listing)


async def test_a_node_keeps_serving_while_redis_does_not_answer() -> None:
    down = redis.asyncio.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    lease = _lease(down, "test:", "node-a", Load(), every=0.1)
    await lease.start()  # logged, not raised
    assert await lease.beat() is False
    await lease.close()
    await down.aclose()


def test_the_table_names_each_node_and_its_load() -> None:
    node = Node(
        "node-a",
        "https://a.example",
        ("10.0.0.1", "10.0.0.2"),
        1000.0,
        4598.8,
        Load(rooms=3, sites=25, forwarded_pps=1234.4, cpu=0.5),
    )
    lines = table([node], 4600.0).splitlines()
    assert lines[0].split() == [
        "NODE",
        "URL",
        "ICE",
        "ADDRESSES",
        "UP",
        "BEAT",
        "ROOMS",
        "SITES",
        "PKT/S",
        "CPU",
    ]
    assert lines[1].split() == [
        "node-a",
        "https://a.example",
        "10.0.0.1,10.0.0.2",
        "1h00m",
        "1.2s",
        "ago",
        "3",
        "25",
        "1234",
        "0.50",
    ]


def _nodes(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "nodes", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def _environment(folder: Path, port: int, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    return env | {
        "CONCORD_DATA_DIR": str(folder),
        "CONCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
        "CONCORD_REDIS_URL": redis_url,
    }


async def test_concord_nodes_lists_served_nodes_until_they_stop_or_die(
    tmp_path: Path, redis_url: str
) -> None:
    served = []
    for name in ("a", "b"):
        port = free_port()
        env = _environment(tmp_path / name, port, redis_url)
        served.append(Served(env, port, tmp_path / f"{name}.log"))
    try:
        for node in served:
            await node.start()
        ids = [(Path(n.env["CONCORD_DATA_DIR"]) / "node-id").read_text().strip() for n in served]
        listed = _nodes(served[0].env)
        assert listed.returncode == 0, listed.stderr
        for node_id, node in zip(ids, served, strict=True):
            line = next(line for line in listed.stdout.splitlines() if line.startswith(node_id))
            assert node.url in line and "127.0.0.1" in line, listed.stdout
        served[0].stop()  # SIGTERM: it takes its entry out as it stops
        assert ids[0] not in _nodes(served[1].env).stdout
        assert served[1].process is not None
        os.kill(served[1].process.pid, signal.SIGKILL)
        served[1].process.wait(10)
        # Dead, but its lease runs on for a few seconds (read at once: the command's own
        # start-up may take that long on a loaded machine).
        connection = redis.asyncio.from_url(redis_url)
        try:
            assert ids[1] in [n.id for n in await live_nodes(connection)]
        finally:
            await connection.aclose()
        deadline = time.monotonic() + 10
        while ids[1] in _nodes(served[1].env).stdout:
            assert time.monotonic() < deadline, "a killed node stayed listed"
            await asyncio.sleep(0.5)
    finally:
        for node in served:
            node.stop()


def test_concord_nodes_says_why_it_cannot_list(tmp_path: Path) -> None:
    env = _environment(tmp_path, 8080, "")
    del env["CONCORD_REDIS_URL"]
    alone = _nodes(env)
    assert alone.returncode == 2 and "CONCORD_REDIS_URL is not set" in alone.stderr
    unreachable = _nodes(env | {"CONCORD_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert unreachable.returncode == 1
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in unreachable.stderr
    alone = _nodes(env, "drain", "node-x")
    assert alone.returncode == 2 and "CONCORD_REDIS_URL is not set" in alone.stderr


def test_concord_nodes_drain_refuses_a_node_that_is_not_running(
    tmp_path: Path, redis_url: str
) -> None:
    env = _environment(tmp_path, 8080, redis_url)
    unknown = _nodes(env, "drain", "node-nobody")
    assert unknown.returncode == 1, unknown
    assert "no live node 'node-nobody'" in unknown.stderr, unknown.stderr
    bad = _nodes(env, "drain", "node-nobody", "--wait", "0")
    assert bad.returncode == 2 and "--wait must be a positive number" in bad.stderr, bad.stderr
