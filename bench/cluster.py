"""``python -m bench cluster``: Concord as a cluster of ``concord serve`` nodes on this machine
(issue 16), on PostgreSQL and Redis (``CONCORD_BENCH_POSTGRES_URL``, ``CONCORD_BENCH_REDIS_URL``;
a fresh database is made and dropped). Traffic stays on 127.0.0.1.

- **Failover.** Three nodes; the aid review's room is held by one of them, N sites (8 and 32)
  come in through another one: the main hall publishes, the others receive it. The room's node
  is killed (SIGKILL), ``--kills`` times, started again after each kill; the figure is the
  seconds from the kill until every receiving site has 3 frames of the hall's video on a peer
  connection made after the kill (``bench.restart``'s watcher). p50 and p95.
- **Load on the shared services.** Over ``--window`` seconds of the three nodes idle, then of
  that room running (before the first kill): the commands Redis processed (``INFO``'s
  ``total_commands_processed``: every node's leases, heartbeats and socket.io's queue) and the
  transactions PostgreSQL committed in the cluster's database (``pg_stat_database``) and the
  SQL statements the nodes sent it (the sum of their ``concord_db_statements_total``), per
  minute: idle, and what the room adds.
- **Placement.** 50 rooms, each opened through a node picked at random among three idle nodes,
  through the real leases in Redis (under a prefix of its own): rooms per node.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio
from prometheus_client.parser import text_string_to_metric_families

from bench.cluster_nodes import (
    Cluster,
    cluster_environment,
    drop_database,
    fresh_database,
    hold_live,
)
from bench.restart import CONFERENCE, ORGANISER, Back, _back, _fill, _p95
from bench.served import api_token
from server.cluster.nodes import Load, NodeLease
from server.cluster.placement import RoomLeases
from server.live.registry import RoomElsewhere
from server.live.simulate import SimulatedSite
from server.live.simulate_console import Operator

POSTGRES = os.environ.get(
    "CONCORD_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("CONCORD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
NAMES = ("node-1", "node-2", "node-3")
BETWEEN = 3.0  # seconds between a killed node's return and the next kill


async def _room_node(client: redis.asyncio.Redis) -> str:
    holder = await client.get(f"concord:room:{CONFERENCE}")
    return holder.decode() if isinstance(holder, bytes) else str(holder)


async def _statements(cluster: Cluster) -> float:
    """The SQL statements the cluster's nodes have sent (their /metrics, summed)."""
    sent = 0.0
    async with aiohttp.ClientSession() as http:
        for node in cluster.nodes.values():
            async with http.get(node.url + "/metrics") as answer:
                text = await answer.text()
            for family in text_string_to_metric_families(text):
                if family.name == "concord_db_statements":
                    sent += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return sent


async def _service_load(
    client: redis.asyncio.Redis, database: str, window: float, cluster: Cluster
) -> dict[str, float]:
    """Redis commands, PostgreSQL transactions and statements per minute over ``window`` s."""
    name = database.rsplit("/", 1)[1]
    conn = await asyncpg.connect(POSTGRES.replace("postgresql+asyncpg://", "postgresql://"))
    query = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1"
    try:
        redis_before = (await client.info("stats"))["total_commands_processed"]
        pg_before = await conn.fetchval(query, name)
        sent_before = await _statements(cluster)
        await asyncio.sleep(window)
        sent_after = await _statements(cluster)
        redis_after = (await client.info("stats"))["total_commands_processed"]
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        pg_after = await conn.fetchval(query, name)
    finally:
        await conn.close()
    per_minute = 60.0 / window
    return {
        "redis_commands_per_min": round((redis_after - redis_before) * per_minute),
        "pg_transactions_per_min": round((pg_after - pg_before) * per_minute),
        "sql_statements_per_min": round((sent_after - sent_before) * per_minute),
    }


async def failover(count: int, kills: int, window: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="concord-bench-cluster-"))
    database = await fresh_database(POSTGRES)
    client = redis.asyncio.from_url(REDIS)
    cluster = Cluster(cluster_environment(database, REDIS), NAMES, folder)
    sites: list[SimulatedSite] = []
    backs: list[Back] = []
    try:
        await client.flushdb()
        await asyncio.to_thread(cluster.demo)
        await hold_live(database, (CONFERENCE,))
        await cluster.start()
        idle = await _service_load(client, database, window, cluster)  # three nodes, no room
        token = await api_token(cluster[NAMES[0]].url, ORGANISER, "bench")
        opener = Operator(cluster[NAMES[0]].url, token)  # opens the room where it is placed
        assert await opener.join(CONFERENCE), opener.refusal
        await opener.close()
        owner = await _room_node(client)
        entry = next(name for name in NAMES if name != owner)
        sites = await _fill(cluster[owner], token, count, entry=cluster[entry].url)
        busy = await _service_load(client, database, window, cluster)
        load = {f"idle_{k}": v for k, v in idle.items()} | {
            f"room_{k}": busy[k] - idle[k] for k in busy
        }
        print(json.dumps({"sites": count, "room_node": owner} | load), flush=True)
        for _ in range(kills):
            await asyncio.sleep(BETWEEN)
            owner = await _room_node(client)
            before = {s.name: s.media for s in sites}
            killed = time.monotonic()
            await asyncio.to_thread(cluster[owner].kill)
            back = await _back(sites, before, killed)
            backs.append(back)
            line = {"sites": count, "killed": owner, "new_node": await _room_node(client)}
            print(json.dumps(line | {"back_s": back.seconds} | back.summary()), flush=True)
            await cluster[owner].start()
    finally:
        for site in sites:
            await site.close()
        cluster.stop()
        await client.aclose()
        await drop_database(POSTGRES, database)
    values = [b.seconds for b in backs if b.seconds is not None]
    return {
        "sites": count,
        "each_s": [None if b.seconds is None else round(b.seconds, 2) for b in backs],
        "p50_s": round(statistics.median(values), 2) if values else None,
        "p95_s": round(_p95(values), 2) if values else None,
    } | load


async def placement(rooms: int = 50) -> dict[str, int]:
    """Rooms per node when ``rooms`` rooms open through random nodes of three idle ones."""
    client = redis.asyncio.from_url(REDIS)
    prefix = f"bench-{secrets.token_hex(4)}:"
    leases = {name: RoomLeases(client, name, list, prefix=prefix) for name in NAMES}
    announced = [
        NodeLease(client, name, f"http://{name}.example", (), Load, prefix=prefix) for name in NAMES
    ]
    chooser = random.Random(16)
    try:
        for lease in announced:
            await lease.start()
        for room in range(1, rooms + 1):
            asked = leases[chooser.choice(NAMES)]
            try:
                await asked.claim(room)
            except RoomElsewhere as placed:
                await leases[placed.node].claim(room)  # its first client arrives there
        holders = [await client.get(f"{prefix}room:{room}") for room in range(1, rooms + 1)]
        named = [h.decode() if isinstance(h, bytes) else h for h in holders if h is not None]
        return dict(sorted(Counter(named).items()))
    finally:
        to_close: list[RoomLeases | NodeLease] = [*leases.values(), *announced]
        for closing in to_close:
            await closing.close()
        await client.aclose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cluster", description=__doc__)
    parser.add_argument("--sizes", default="8,32", help="site counts (default 8,32)")
    parser.add_argument("--kills", type=int, default=5, help="kills of the room's node")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of service load")
    args = parser.parse_args(argv)
    spread = asyncio.run(placement())
    print(json.dumps({"placement_50_rooms": spread}), flush=True)
    rows = []
    for count in [int(v) for v in args.sizes.split(",")]:
        print(f"# {count} sites from {time.strftime('%H:%M:%S')}", flush=True)
        rows.append(asyncio.run(failover(count, args.kills, args.window)))
        print(json.dumps(rows[-1]), flush=True)
    print(
        "\n| sites | each failover (s) | p50 (s) | p95 (s) | Redis cmds/min: 3 idle nodes, "
        "+ the room | PG transactions/min: idle, + the room | SQL statements/min: idle, + the room "
        "|\n|---|---|---|---|---|---|---|"
    )
    for row in rows:
        each = ", ".join("none" if v is None else f"{v:.2f}" for v in row["each_s"])
        print(
            f"| {row['sites']} | {each} | {row['p50_s']} | {row['p95_s']} | "
            f"{row['idle_redis_commands_per_min']}, +{row['room_redis_commands_per_min']} | "
            f"{row['idle_pg_transactions_per_min']}, +{row['room_pg_transactions_per_min']} | "
            f"{row['idle_sql_statements_per_min']}, +{row['room_sql_statements_per_min']} |"
        )
    print(f"\nplacement of 50 rooms over 3 idle nodes: {spread}")
    return 0
