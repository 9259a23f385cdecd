"""The browser pages on a cluster (issue 16): two ``concord serve`` nodes in the browsers'
namespace share PostgreSQL and Redis (forwarded in, ``tests/browser/services.py``).

The aid review's room is placed on node A (by the node ids), but every page is served by node
B: the organiser's main hall page and console, and site 4's page opened from its invitation
link. Each page's client is refused on B with ``room_elsewhere`` and moves its socket, and so
its media, to node A by itself; site 4 sees and hears the main hall. Node A is then killed with
SIGKILL: the pages find node A gone, go back to node B (where they came in), the room reopens
there from its kept state, and site 4 sees and hears the main hall again, still admitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio
from playwright.sync_api import Page, expect

from bench.cluster_nodes import base_placing_apart, hold_live
from tests.browser.conftest import (
    PORT,
    REPO,
    Namespace,
    NewContext,
    _stop,
    concord_command,
    serve,
)
from tests.browser.services import Forward
from tests.browser.test_room import (
    assert_audio,
    assert_video,
    invite,
    sign_in,
    wait_for,
    wait_in_room,
)
from tests.cluster.conftest import names_placing
from tests.conftest import REDIS_URL, _drop_postgres_database, _postgres_database

T = TypeVar("T")
CONFERENCE, MAIN_HALL, SITE = 2, 3, 4  # the aid review
MOU, MOU_HALL, CHAMPASAK = 1, 1, 2  # the memorandum
WORKERS_PORT = PORT + 20
WORKERS_URL = f"http://127.0.0.1:{WORKERS_PORT}"
WORKERS = ("--workers", "2")
BACK_WITHIN = 20.0  # lease (3 s) + the page noticing its node is gone + rejoin + media


def apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a loop of its own in another thread (Playwright's sync API keeps
    an event loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Node:
    name: str
    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def cluster_services(netns: Namespace, folder: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database filled by ``concord demo`` and Redis, both reachable inside
    the namespace; the settings every node of the cluster shares."""
    database = apart(_postgres_database())
    forwards = [Forward(netns.name, 5432), Forward(netns.name, 6379)]
    settings = {
        "CONCORD_DATABASE_URL": database,
        "CONCORD_REDIS_URL": REDIS_URL,
        "CONCORD_SECRET_KEY": secrets.token_hex(32),
        "CONCORD_ARGON2_TIME_COST": "1",
        "CONCORD_ARGON2_MEMORY_KIB": "1024",
    }
    try:
        command = concord_command(folder / "demo", PORT + 10, settings=settings)
        demo = subprocess.run(
            netns.command(*command, "demo"),
            cwd=REPO,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        apart(hold_live(database, (MOU, CONFERENCE)))
        yield settings
    finally:
        for forward in forwards:
            forward.close()
        apart(_drop_postgres_database(database))


@pytest.fixture
def two_nodes(netns: Namespace, tmp_path: Path, output_dir: Path) -> Iterator[dict[str, Node]]:
    nodes: dict[str, Node] = {}
    with cluster_services(netns, tmp_path) as settings:
        try:
            for i, name in enumerate(names_placing(CONFERENCE, ("a", "b"))):
                port, data_dir = PORT + 11 + i, tmp_path / name
                data_dir.mkdir()
                (data_dir / "node-id").write_text(name + "\n")
                log = output_dir / f"cluster-{name[5]}.log"
                log.write_bytes(b"")
                process = serve(netns, data_dir, port, log, settings=settings)
                nodes[name[5]] = Node(name, port, data_dir, log, process)
            yield nodes
        finally:
            for node in nodes.values():
                _stop(node.process)


def node_of(page: Page) -> str:
    """The node the page's client talks to ("" is the page's own origin)."""
    return str(page.evaluate("() => window.concord.client.base"))


def test_pages_served_by_one_node_follow_the_room_to_its_node_and_back_after_a_kill(
    two_nodes: dict[str, Node], new_context: NewContext
) -> None:
    a, b = two_nodes["a"], two_nodes["b"]
    report: list[str] = []
    organiser = new_context("cluster-organiser", base_url=b.url)
    hall = organiser.new_page()
    hall.goto("/healthz")
    csrf = sign_in(hall)
    link = invite(hall, csrf, SITE)
    assert link.startswith(b.url), link
    hall.goto(f"/conferences/{CONFERENCE}/room?site={MAIN_HALL}&autojoin=1")
    wait_in_room(hall, "main hall")
    assert node_of(hall) == a.url

    console = organiser.new_page()
    console.goto(f"/conferences/{CONFERENCE}/console")
    wait_for(
        console,
        "the console joined on node A",
        "() => window.concord && window.concord.canChair === true && window.concord.state",
        timeout=20,
    )
    assert node_of(console) == a.url

    site = new_context("cluster-site", base_url=b.url).new_page()
    site.goto(link)
    site.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    wait_for(
        site,
        "site 4 in the lobby on node A",
        """() => window.concord && window.concord.admission === "lobby" """,
        timeout=20,
    )
    assert node_of(site) == a.url
    console.evaluate(f"() => window.concord.client.admit({SITE})")
    wait_in_room(site, "site 4")
    report.append(assert_video(site, "site 4 via node A", "hall.video", "hall-video"))
    report.append(assert_audio(site, "site 4 via node A", "hall.audio", "hall-audio"))

    # The technicians' dashboard, opened on node B, shows the sites of node A's room.
    dashboard = organiser.new_page()
    dashboard.goto(f"/conferences/{CONFERENCE}/health")
    for shown in (MAIN_HALL, SITE):
        row = dashboard.locator(f"#health-rows tr[data-subject='site:{shown}']")
        level = row.locator(".level")  # measured (the fake camera may rate "fair"), not down
        expect(level).to_have_attribute("data-level", re.compile("^(good|fair)$"), timeout=20_000)
    assert dashboard.evaluate("() => window.__health.client.base") == a.url
    dashboard.close()

    # Node A dies. Every page goes back to node B, where the room reopens as it was, on a
    # peer connection made after the kill (the one to A may still look "connected" a while).
    pages = ((site, "site 4"), (hall, "main hall"))
    made = [page.evaluate("() => window.concord.link.connections") for page, _ in pages]
    os.kill(a.process.pid, signal.SIGKILL)
    a.process.wait(10)
    killed = time.monotonic()
    for (page, who), before in zip(pages, made, strict=True):
        wait_for(
            page,
            f"{who} back on node B",
            f"""() => window.concord.client.base === ""
                  && window.concord.admission === "admitted"
                  && window.concord.link.connections > {before}
                  && window.concord.pc && window.concord.pc.connectionState === "connected" """,
            timeout=BACK_WITHIN,
        )
    report.append(f"both pages back on node B {time.monotonic() - killed:.1f} s after the kill")
    offers = [page.evaluate("() => window.concord.link.offers") for page, _ in pages]
    report.append(f"offers since the kill (site, hall): {[o[-3:] for o in offers]}")
    report.append(assert_video(site, "site 4 via node B", "hall.video", "hall-video"))
    report.append(assert_audio(site, "site 4 via node B", "hall.audio", "hall-audio"))
    print("\n".join(report))


@pytest.fixture
def workers(netns: Namespace, tmp_path: Path, output_dir: Path) -> Iterator[str]:
    """``concord serve --workers 2`` in the namespace; the base of the node ids is chosen so
    that the aid review goes to worker 1 and the memorandum to worker 2. Yields the base."""
    base = base_placing_apart(CONFERENCE, MOU)
    log = output_dir / "workers.log"
    log.write_bytes(b"")
    with cluster_services(netns, tmp_path) as settings:
        settings = settings | {"CONCORD_NODE_ID": base}
        process = serve(
            netns, tmp_path / "data", WORKERS_PORT, log, settings=settings, options=WORKERS
        )
        try:
            yield base
        finally:
            _stop(process)


def hall_and_site(
    new_context: NewContext, conference: int, hall_site: int, site: int, name: str
) -> tuple[Page, Page]:
    """The organiser's main hall page and a site's page (its invitation link), both through
    the one port; the site admitted by the organiser's client, in the room."""
    organiser = new_context(f"{name}-organiser", base_url=WORKERS_URL)
    hall = organiser.new_page()
    hall.goto("/healthz")
    csrf = sign_in(hall)
    link = hall.evaluate(
        """async ([conference, site, csrf]) => {
          const r = await fetch(`/api/conferences/${conference}/invitations`, {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
            body: JSON.stringify({site_id: site, role: "delegate"})});
          return (await r.json()).url;
        }""",
        [conference, site, csrf],
    )
    hall.goto(f"/conferences/{conference}/room?site={hall_site}&autojoin=1")
    wait_in_room(hall, f"{name}: main hall")
    page = new_context(f"{name}-site", base_url=WORKERS_URL).new_page()
    page.goto(link)
    page.goto(f"/conferences/{conference}/room?autojoin=1")
    wait_for(
        page,
        f"{name}: site {site} in the lobby",
        """() => window.concord && window.concord.admission === "lobby" """,
        timeout=20,
    )
    hall.evaluate(f"() => window.concord.client.admit({site})")
    wait_in_room(page, f"{name}: site {site}")
    return hall, page


def test_two_conferences_through_one_port_each_on_its_worker(
    workers: str, new_context: NewContext
) -> None:
    report = []
    for conference, hall_site, site, name in (
        (CONFERENCE, MAIN_HALL, SITE, "aid review"),
        (MOU, MOU_HALL, CHAMPASAK, "memorandum"),
    ):
        _, page = hall_and_site(new_context, conference, hall_site, site, name)
        report.append(assert_video(page, f"{name}: site {site}", "hall.video", "hall-video"))
        report.append(assert_audio(page, f"{name}: site {site}", "hall.audio", "hall-audio"))
        report.append(f"{name}: the site's client talks to {node_of(page) or WORKERS_URL}")
    holders = apart(room_holders((CONFERENCE, MOU)))
    assert holders == {CONFERENCE: f"{workers}-1", MOU: f"{workers}-2"}, holders
    print("\n".join(report))


async def room_holders(conferences: tuple[int, ...]) -> dict[int, str | None]:
    client = redis.asyncio.from_url(REDIS_URL, decode_responses=True)
    try:
        holders: dict[int, str | None] = {}
        for c in conferences:
            holder = await client.get(f"concord:room:{c}")
            assert not isinstance(holder, bytes)  # decode_responses: redis-py types it either
            holders[c] = holder
        return holders
    finally:
        await client.aclose()
