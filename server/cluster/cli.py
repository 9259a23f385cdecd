"""``concord nodes``: the nodes of the cluster, as Redis lists them."""

from __future__ import annotations

import asyncio
import sys
import time

import redis.asyncio
import redis.exceptions

from server.cluster.nodes import Node, drain_key, live_nodes
from server.config import Config

HEADER = ("NODE", "URL", "ICE ADDRESSES", "UP", "BEAT", "ROOMS", "SITES", "PKT/S", "CPU")


SINGLE = (
    "concord nodes: CONCORD_REDIS_URL is not set, so this Concord is a single node "
    "(a cluster's nodes share one Redis and one PostgreSQL)"
)


def nodes_command(config: Config) -> int:
    if not config.redis_url:
        print(SINGLE, file=sys.stderr)
        return 2
    try:
        nodes = asyncio.run(_read(config.redis_url))
    except (OSError, redis.exceptions.RedisError) as exc:
        print(f"concord nodes: Redis at {config.redis_url} does not answer: {exc}", file=sys.stderr)
        return 1
    if not nodes:
        print("no node is running (none has renewed its lease in the last few seconds)")
        return 0
    print(table(nodes, time.time()))
    return 0


def drain_command(config: Config, node_id: str, wait: float) -> int:
    """Ask ``node_id`` to hand its rooms over and stop; wait until it has left the list."""
    if not config.redis_url:
        print(SINGLE, file=sys.stderr)
        return 2
    if not wait > 0:
        print(f"concord nodes drain: --wait must be a positive number, not {wait}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_drain(config.redis_url, node_id, wait))
    except (OSError, redis.exceptions.RedisError) as exc:
        print(f"concord nodes: Redis at {config.redis_url} does not answer: {exc}", file=sys.stderr)
        return 1


async def _drain(url: str, node_id: str, wait: float) -> int:
    client = redis.asyncio.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        listed = [node.id for node in await live_nodes(client)]
        if node_id not in listed:
            known = ", ".join(listed) or "none"
            print(f"concord nodes drain: no live node {node_id!r} (live: {known})", file=sys.stderr)
            return 1
        began = time.monotonic()
        await client.set(drain_key(node_id), str(time.time()), ex=int(wait) + 60)
        print(f"node {node_id} asked to drain: it hands its rooms over, then stops")
        while time.monotonic() - began < wait:
            await asyncio.sleep(0.2)
            if node_id not in [node.id for node in await live_nodes(client)]:
                print(f"node {node_id} stopped {time.monotonic() - began:.1f} s later")
                return 0
        still = f"concord nodes drain: {node_id} is still running after {wait:.0f} s"
        print(still, file=sys.stderr)
        return 1
    finally:
        await client.aclose()


async def _read(url: str) -> list[Node]:
    client = redis.asyncio.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        return await live_nodes(client)
    finally:
        await client.aclose()


def table(nodes: list[Node], now: float) -> str:
    """One aligned line per node under ``HEADER``."""
    rows = [HEADER] + [
        (
            node.id,
            node.url,
            ",".join(node.ice_addresses) or "-",
            _duration(now - node.started_at),
            f"{max(0.0, now - node.beat_at):.1f}s ago",
            str(node.load.rooms),
            str(node.load.sites),
            f"{node.load.forwarded_pps:.0f}",
            f"{node.load.cpu:.2f}",
        )
        for node in nodes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
