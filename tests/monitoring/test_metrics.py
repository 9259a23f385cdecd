"""``GET /metrics``: the Prometheus text format read back by prometheus_client's own parser,
with real aiortc sites in a room; the label sets of a room that ended are gone and the
counters never go down; who may scrape (addresses, the bearer token)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.cluster.load import LoadMeter
from server.config import Config
from server.db import Database
from server.keys import LIVE_ROOMS, METRICS
from server.monitoring.metrics import LoopLag, Totals
from server.monitoring.scrapers import allowed
from server.monitoring.settings import health_settings, with_health
from tests.conftest import ClientFactory
from tests.live import conftest as live_fixtures

Client = TestClient[Any, Any]
# The live fixture (a chair and synthetic sites) of tests/live.
live = live_fixtures.live

MOU, HALL, CHAMPASAK = 1, 1, 2
TOKEN = "scraper-token-" + "s" * 24
#: Every name the README documents (counters with their ``_total`` sample suffix).
DOCUMENTED = {
    "concord_rooms_live",
    "concord_sites_connected",
    "concord_forwarded_packets_total",
    "concord_forwarded_bytes_total",
    "concord_received_packets_total",
    "concord_keyframe_requests_total",
    "concord_site_rtt_seconds",
    "concord_site_loss_ratio",
    "concord_site_jitter_seconds",
    "concord_site_score",
    "concord_site_level",
    "concord_health_alerts_open",
    "concord_socketio_connections",
    "concord_event_loop_lag_seconds",
}
PER_SITE = (
    "concord_site_rtt_seconds",
    "concord_site_loss_ratio",
    "concord_site_jitter_seconds",
    "concord_site_score",
    "concord_site_level",
)

Samples = dict[str, dict[frozenset[tuple[str, str]], float]]


def parse(text: str) -> tuple[Samples, dict[str, str]]:
    """Sample name → label set → value, and family name → type. Every sample is labelled
    with the one node that serves it; that label is checked, then left out."""
    samples: Samples = {}
    types: dict[str, str] = {}
    nodes = set()
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            nodes.add(sample.labels.get("node"))
            labels = frozenset((k, v) for k, v in sample.labels.items() if k != "node")
            assert labels not in samples.setdefault(sample.name, {}), f"twice: {sample}"
            samples[sample.name][labels] = sample.value
    assert len(nodes) == 1 and None not in nodes, nodes
    return samples, types


async def scrape(client: Client, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    samples, _ = parse(await response.text())
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get(name, {}).get(frozenset(labels.items()))


def total(samples: Samples, name: str) -> float:
    """An unlabelled sample that must be there (the counters)."""
    found = value(samples, name)
    assert found is not None, f"no {name}"
    return found


def sites_of(samples: Samples, name: str, conference: str) -> set[str]:
    return {
        dict(labels)["site"]
        for labels in samples.get(name, {})
        if dict(labels).get("conference") == conference
    }


async def until_scraped(
    client: Client, condition: Callable[[Samples], bool], what: str, limit: float = 15.0
) -> Samples:
    start = time.monotonic()
    while True:
        samples = await scrape(client)
        if condition(samples):
            return samples
        if time.monotonic() - start > limit:
            pytest.fail(f"timed out after {limit} s waiting for {what}: {samples}")
        await asyncio.sleep(0.25)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_live_rooms_in_the_metrics(live: dict[str, Any], demo: Database) -> None:
    client: Client = live["client"]
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    idle, types = parse(await response.text())
    assert value(idle, "concord_rooms_live") == 0
    assert value(idle, "concord_forwarded_packets_total") == 0
    assert types["concord_forwarded_packets"] == "counter"
    assert types["concord_site_level"] == "gauge"
    # The node's load as its cluster entry gives it (server.cluster.load), read alongside.
    meter = LoadMeter(client.app[LIVE_ROOMS].live)
    idle_load = meter.sample()
    assert (idle_load.rooms, idle_load.sites, idle_load.forwarded_pps) == (0, 0, 0), idle_load

    chair = await live["chair"](MOU)
    assert (await chair.call("health.watch"))["ok"]
    for site_id, name, tone in ((HALL, "hall", 440), (CHAMPASAK, "champasak", 880)):
        site = await live["invite"](MOU, site_id, name, tone)
        assert await site.start() == "lobby"
        assert (await chair.call("admit", {"site_id": site_id}))["ok"]
        await asyncio.wait_for(site.admitted.wait(), 5)
        await site.connect_media()

    first = await until_scraped(
        client,
        lambda s: (
            value(s, "concord_sites_connected", conference="1") == 2
            and (value(s, "concord_forwarded_packets_total") or 0) > 0
        ),
        "two connected sites forwarding media",
    )
    assert value(first, "concord_rooms_live") == 1
    load = meter.sample()
    assert (load.rooms, load.sites) == (1, 2) and load.forwarded_pps > 0 and load.cpu > 0, load
    assert (value(first, "concord_forwarded_bytes_total") or 0) > 0
    assert (value(first, "concord_received_packets_total") or 0) > 0
    assert (value(first, "concord_socketio_connections") or 0) >= 3  # the chair, two sites
    lag = value(first, "concord_event_loop_lag_seconds")
    assert lag is not None and 0 <= lag < 5

    # The first health reports (every 2 s): figures per site, and per direction. The round
    # trip comes from the receiver reports of what a site is sent: the hall, the floor, is
    # sent nothing here, Champasak receives the hall.
    wanted = {f"site:{HALL}", f"site:{CHAMPASAK}"}
    hall, champasak = f"site:{HALL}", f"site:{CHAMPASAK}"
    directions = ((hall, "up"), (champasak, "up"), (champasak, "down"))

    def loss_of(s: Samples, site: str, direction: str) -> float | None:
        return value(s, "concord_site_loss_ratio", conference="1", site=site, direction=direction)

    # (each direction's figure comes with its own first report: wait for all of them)
    report = await until_scraped(
        client,
        lambda s: (
            champasak in sites_of(s, "concord_site_rtt_seconds", "1")
            and all(loss_of(s, site, direction) is not None for site, direction in directions)
            and sites_of(s, "concord_site_level", "1") >= wanted
        ),
        "the sites' round trip and loss",
    )
    for name in PER_SITE:
        assert sites_of(report, name, "1") >= (wanted - {hall} if "rtt" in name else wanted), name
    rtt = value(report, "concord_site_rtt_seconds", conference="1", site=champasak)
    assert rtt is not None and 0 <= rtt < 1
    for site, direction in directions:
        loss = loss_of(report, site, direction)
        assert loss is not None and 0 <= loss <= 1, (site, direction)
    for site in wanted:
        assert value(report, "concord_site_level", conference="1", site=site) in (0, 1, 2, 3)
        assert 0 <= (value(report, "concord_site_score", conference="1", site=site) or -1) <= 100
    assert value(report, "concord_health_alerts_open", conference="1") is not None
    assert set(report) >= DOCUMENTED, DOCUMENTED - set(report)

    # Counters only grow between scrapes.
    later = await until_scraped(
        client,
        lambda s: (
            total(s, "concord_forwarded_packets_total")
            > total(report, "concord_forwarded_packets_total")
        ),
        "more forwarded packets",
    )
    for name in ("concord_forwarded_packets_total", "concord_forwarded_bytes_total"):
        assert total(later, name) >= total(report, name) >= total(first, name)

    # The conference ends: its room and its label sets go, the counters stay.
    response = await client.post(
        f"/api/conferences/{MOU}/status",
        json={"status": "ended"},
        headers={"X-CSRF-Token": live["csrf"]},
    )
    assert response.status == 200, await response.text()
    assert client.app[LIVE_ROOMS].get(MOU) is None
    ended = await scrape(client)
    load = meter.sample()
    assert (load.rooms, load.sites) == (0, 0) and load.forwarded_pps >= 0, load
    assert value(ended, "concord_rooms_live") == 0
    for name in (*PER_SITE, "concord_sites_connected", "concord_health_alerts_open"):
        assert not ended.get(name), (name, ended.get(name))
    for name in (
        "concord_forwarded_packets_total",
        "concord_forwarded_bytes_total",
        "concord_received_packets_total",
        "concord_keyframe_requests_total",
    ):
        assert total(ended, name) >= total(later, name), name
    gc.collect()
    again = await scrape(client)
    assert total(again, "concord_forwarded_packets_total") == total(
        ended, "concord_forwarded_packets_total"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_loopback_may_scrape_by_default(client: Client, config: Config) -> None:
    health = health_settings(config)
    assert health.metrics_allow == ("127.0.0.1/32", "::1/128") and health.metrics_token is None
    response = await client.get("/metrics", headers={"Authorization": "Bearer not-an-api-token"})
    assert response.status == 200, await response.text()
    samples, _ = parse(await response.text())
    assert value(samples, "concord_rooms_live") == 0
    assert client.app[METRICS].registry is not None


@pytest.fixture
async def closed(aiohttp_client: ClientFactory, config: Config, demo: Database) -> Client:
    """An app that lets no address scrape: only the bearer token opens the metrics."""
    return await aiohttp_client(
        create_app(with_health(config, metrics_allow=(), metrics_token=TOKEN))
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_elsewhere_the_token_is_needed(closed: Client) -> None:
    for headers in (
        {},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ):
        refused = await closed.get("/metrics", headers=headers)
        assert refused.status == 403, headers
        assert refused.content_type == "application/problem+json"
        problem = await refused.json()
        assert problem["code"] == "forbidden" and "CONCORD_METRICS_TOKEN" in problem["detail"]
    samples = await scrape(closed, Authorization=f"Bearer {TOKEN}")
    assert value(samples, "concord_rooms_live") == 0


def test_who_may_scrape() -> None:
    loopback = ("127.0.0.1/32", "::1/128")
    assert allowed("127.0.0.1", "", None, loopback)
    assert allowed("::1", "", None, loopback)
    assert allowed("::ffff:127.0.0.1", "", None, loopback)
    assert not allowed("10.0.0.7", "", None, loopback)
    assert allowed("10.0.0.7", "", None, ("10.0.0.0/8",))
    assert not allowed(None, "", None, loopback)
    assert not allowed("not an address", "", None, loopback)
    assert allowed("10.0.0.7", f"Bearer {TOKEN}", TOKEN, loopback)
    assert allowed("10.0.0.7", f"bearer  {TOKEN} ", TOKEN, loopback)
    assert not allowed("10.0.0.7", f"Bearer {TOKEN}", None, loopback)
    assert not allowed("10.0.0.7", "Bearer ", "", loopback)


class Counting:
    def __init__(self, count: int) -> None:
        self.count = count


def test_totals_keep_what_vanished_objects_counted() -> None:
    totals = Totals(1)
    a, b = Counting(5), Counting(7)
    assert totals.update([(a, (a.count,)), (b, (b.count,))]) == (12,)
    a.count = 9
    assert totals.update([(a, (a.count,))]) == (16,)  # b's 7 stays
    del b
    gc.collect()
    c = Counting(1)
    assert totals.update([(a, (a.count,)), (c, (c.count,))]) == (17,)
    assert totals.update([]) == (17,)


async def test_loop_lag_measures_and_closes_twice() -> None:
    lag = LoopLag(interval=0.2)
    lag.start()
    await asyncio.sleep(0.05)
    assert lag.lag == 0.0
    time.sleep(0.3)  # noqa: ASYNC251 (blocking the loop on purpose: the probe wakes 0.15 s late)
    await asyncio.sleep(0.02)  # the probe runs first, its next sleep ends in 0.2 s
    assert 0.1 <= lag.lag < 1
    await lag.close()
    await lag.close()
    lag.start()  # closed for good
    assert lag._task is not None and lag._task.done()


async def test_each_node_labels_its_samples_with_its_own_name(
    aiohttp_client: ClientFactory, config: Config, demo: Database, tmp_path: Path
) -> None:
    """Nodes sharing a database serve their own /metrics, each sample labelled with the
    node's name (the data directory's node-id), so sums over nodes can tell them apart."""
    named = []
    for name in ("a", "b"):
        node = replace(config, data_dir=tmp_path / name)
        client = await aiohttp_client(create_app(node))
        text = await (await client.get("/metrics")).text()
        labels = {
            sample.labels.get("node")
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        assert labels == {(tmp_path / name / "node-id").read_text().strip()}, labels
        named.append(labels)
    assert named[0] != named[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_statements_a_node_sends_its_database_are_counted(client: Client) -> None:
    """Each request that reads the database adds its statements to the node's counter."""

    async def statements() -> float:
        return total(await scrape(client), "concord_db_statements_total")

    before = await statements()
    assert (await client.get("/api/conferences")).status in (200, 401)
    signed = await client.post("/api/session", json={"email": "nobody@x.example", "password": "x"})
    assert signed.status == 401
    after = await statements()
    assert after >= before + 1, (before, after)
    assert await statements() == after, "a scrape itself sends no statement"
