"""``concord nodes``: the nodes of the cluster, as Redis lists them."""

from __future__ import annotations

import asyncio
import sys
import time

import redis.asyncio
import redis.exceptions

from server.cluster.nodes import Node, live_nodes
from server.config import Config

HEADER = ("NODE", "URL", "ICE ADDRESSES", "UP", "BEAT", "ROOMS", "SITES", "PKT/S", "CPU")


def nodes_command(config: Config) -> int:
    if not config.redis_url:
        print(
            "concord nodes: CONCORD_REDIS_URL is not set, so this Concord is a single node "
            "(a cluster's nodes share one Redis and one PostgreSQL)",
            file=sys.stderr,
        )
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
