"""``/debug/memory``: what a node's memory holds, for soak runs; open like ``/metrics``."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.config import Config
from server.db import Database
from server.monitoring.hub import compact
from server.monitoring.settings import with_health
from tests.conftest import ClientFactory

Client = TestClient[Any, Any]


async def figures(client: Client, query: str = "") -> dict[str, Any]:
    answer = await client.get("/debug/memory" + query)
    assert answer.status == 200, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_process_figures_without_tracemalloc(client: Client) -> None:
    assert not tracemalloc.is_tracing()
    body = await figures(client)
    assert body["rss_bytes"] > 10_000_000 and body["open_fds"] > 3
    assert body["tasks"]["count"] >= 1 and body["tasks"]["most"]
    assert set(body["loop_lag"]) == {"p99", "max"}
    assert body["tracemalloc"] is None
    heap = body["malloc"]  # (glibc: the machines Concord runs on)
    assert heap["in_use_bytes"] > 1_000_000 and heap["free_bytes"] >= 0
    assert heap["heap_bytes"] >= heap["in_use_bytes"] and heap["python_blocks"] > 10_000
    assert body["heap_trims"] == {"trims": 0, "slowest_ms": 0.0}  # once a minute


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_growth_in_concords_own_lines_is_named(client: Client) -> None:
    """The baseline starts tracing: objects a line of Concord's made since, and still held,
    show at that line and count as Concord's own; dropping them takes that away again; the
    stop ends the tracing."""
    started = await figures(client, "?baseline=1")
    try:
        assert tracemalloc.is_tracing() and started["tracemalloc"]["traced_bytes"] < 5_000_000
        kept = [compact({"level": "good", "score": n}) for n in range(20_000)]
        grown = (await figures(client))["tracemalloc"]
        assert grown["own_growth_bytes"] > 500_000, grown
        top = grown["top_growth"][0]
        assert top["where"].startswith("server/monitoring/hub.py:"), grown["top_growth"]
        assert top["count_diff"] >= 20_000
        del kept
        after = (await figures(client))["tracemalloc"]
        assert after["own_growth_bytes"] < grown["own_growth_bytes"] - 500_000, after
        assert (await figures(client, "?stop=1"))["tracemalloc"] is None
        assert not tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_only_allowed_callers_read_them(
    aiohttp_client: ClientFactory, config: Config, demo: Database
) -> None:
    closed = await aiohttp_client(
        create_app(with_health(config, metrics_allow=(), metrics_token="s3cret-token"))
    )
    refused = await closed.get("/debug/memory")
    assert refused.status == 403
    assert "CONCORD_METRICS_ALLOW" in (await refused.json())["detail"]
    opened = await closed.get("/debug/memory", headers={"Authorization": "Bearer s3cret-token"})
    assert opened.status == 200
