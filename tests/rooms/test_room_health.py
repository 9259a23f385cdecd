"""The room's health monitor with real aiortc sites: figures from the media path, a site that
goes away is down with an alert, and good again when it rejoins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rooms.health import Thresholds
from rooms.monitor import HealthReport
from rooms.room import BridgeRoom
from rooms.roster import RoomEvent
from rooms.synthetic import SyntheticSite
from tests.rooms.test_room_media import SITES, SLOTS, join, until

Room = tuple[BridgeRoom, list[HealthReport], list[SyntheticSite]]


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    reports: list[HealthReport] = []
    made: list[SyntheticSite] = []
    events: list[RoomEvent] = []
    bridge = BridgeRoom(
        "health",
        SITES,
        ice_addresses=["127.0.0.1"],
        on_event=events.append,
        on_health=reports.append,
        health=Thresholds(down_after=3.0),
    )
    bridge.health.interval = 0.5
    bridge.start()
    yield bridge, reports, made
    for site in made:
        await site.close()
    await bridge.close()


def rows(reports: list[HealthReport]) -> dict[str, dict[str, Any]]:
    return {r["subject"]: r for r in reports[-1].rows} if reports else {}


def row_of(reports: list[HealthReport], subject: str) -> dict[str, Any]:
    """The latest row of ``subject`` (empty before its first), its figures untyped."""
    return next((r for r in reports[-1].rows if r["subject"] == subject), {}) if reports else {}


async def test_sites_are_measured_graded_and_a_lost_one_raises_an_alert(room: Room) -> None:
    bridge, reports, made = room
    await join(bridge, made, "1", 440)
    await join(bridge, made, "2", 660)
    third = await join(bridge, made, "3", 880)

    def all_measured() -> bool:
        found = rows(reports)
        # The main hall receives nothing while nobody has the floor: no receiver reports
        # from it, so no round trip (its page reports its own).
        return len(found) == 3 and all(
            r["frame_rate"] and (r["rtt"] is not None or s == "site:1") for s, r in found.items()
        )

    await until(all_measured, within=15)
    await asyncio.sleep(1.2)  # a full window with every counter running
    for subject, row in rows(reports).items():
        assert row["level"] == "good", row
        assert row["kind"] == "site" and row["name"] == SITES[subject.split(":")[1]].name
        uplink, downlink = row["uplink"], row["downlink"]
        assert isinstance(uplink, dict) and isinstance(downlink, dict)
        assert uplink["loss"] == 0 and uplink["packets"] > 0 and uplink["bitrate"] > 10_000
        if subject != "site:1":
            rtt = row["rtt"]
            assert isinstance(rtt, float) and 0 < rtt < 0.1
            assert downlink["loss"] == 0 and downlink["packets"] > 0
            assert downlink["bitrate"] > 10_000
        assert isinstance(row["frame_rate"], float) and 5 <= row["frame_rate"] <= 25
        assert row["audio_level"] is not None and row["score"] == 100

    # Site B goes away without leaving: down, and an alert, within the configured time.
    await third.close()
    await until(lambda: rows(reports).get("site:3", {}).get("level") == "down", within=8)
    alerts = reports[-1].alerts
    assert [(a["subject"], a["kind"]) for a in alerts] == [("site:3", "down")]
    changes = [c for r in reports for c in r.changes if c.subject == "site:3"]
    assert any(c.type == "level" and c.data["to"] == "down" for c in changes)
    assert rows(reports)["site:1"]["level"] == "good"

    # It rejoins: the alert cleared; not good (fair, or worse on a busy machine) while its
    # reconnection is in the window.
    made.remove(third)
    await join(bridge, made, "3", 880)
    await until(lambda: row_of(reports, "site:3").get("level") in ("fair", "poor"), within=10)
    back = row_of(reports, "site:3")
    assert "reconnected" in back["flags"] and back["score"] <= 85, back
    await until(lambda: not reports[-1].alerts, within=5)
    cleared = [c for r in reports for c in r.changes if c.type == "cleared"]
    assert [c.data["kind"] for c in cleared] == ["down"]

    # Leaving for good is not an alert, and the site is no longer watched.
    await bridge.leave("2")
    await until(lambda: "site:2" not in rows(reports), within=5)
    assert not reports[-1].alerts


async def test_a_site_sent_nothing_takes_its_round_trip_from_its_page(room: Room) -> None:
    bridge, reports, made = room
    await join(bridge, made, "1", 440)  # the main hall: nobody has the floor, it receives nothing
    await until(lambda: "site:1" in rows(reports) and rows(reports)["site:1"]["frame_rate"], 10)
    assert rows(reports)["site:1"]["rtt"] is None
    bridge.health.browser_report("site:1", {"candidate_rtt": 0.042, "limitation": "none"})
    await until(lambda: rows(reports)["site:1"]["rtt"] == 0.042, 5)
    assert rows(reports)["site:1"]["browser"]["candidate_rtt"] == 0.042


async def test_a_site_without_camera_or_microphone_is_listening_and_healthy(room: Room) -> None:
    """A real aiortc site that publishes nothing and receives the main hall: its row says
    listening and good, for longer than a silent site would take to count as down."""
    bridge, reports, made = room
    await join(bridge, made, "1", 440)
    bridge.arrive("2")
    bridge.admit("2")
    listener = SyntheticSite("2", slots=SLOTS)
    made.append(listener)
    sdp, layout = await listener.offer()
    await listener.accept(await bridge.connect_site("2", sdp, layout))

    def listening() -> bool:
        row = rows(reports).get("site:2", {})
        return row.get("level") == "good" and "listening" in row.get("flags", [])

    await until(listening, within=10)
    await asyncio.sleep(4.0)  # past down_after (3 s): still good, no alert
    row = rows(reports)["site:2"]
    assert listening() and row["score"] == 100, row
    downlink = row["downlink"]
    assert isinstance(downlink, dict) and downlink["packets"] > 0, "it receives the hall"
    assert not [a for r in reports for a in r.alerts if a["subject"] == "site:2"]
    # Each window also carries the server's own state, which decides "trouble at the server".
    server = reports[-1].server
    assert server is not None and server.loop_lag >= 0 and server.cpu > 0, server


async def test_concord_counts_a_sites_reconnections_against_its_score(room: Room) -> None:
    """New peer connections of an admitted site after its first are reconnections (sharing a
    screen, which offers again with another set of tracks, is not); they lower its score and,
    past the threshold (1 in the window), its level, with the reason shown."""
    bridge, reports, made = room
    first = await join(bridge, made, "2", 660)
    await until(lambda: rows(reports).get("site:2", {}).get("level") == "good", within=10)
    assert row_of(reports, "site:2")["experience"] == {
        "freezes": 0,
        "frozen_seconds": 0.0,
        "concealed": None,
        "reconnections": 0,
        "window": 30.0,
    }
    await join(bridge, made, "2", 660, screen=True)  # a screen shared: a new set, not counted
    await asyncio.sleep(1.2)
    assert row_of(reports, "site:2")["experience"]["reconnections"] == 0
    made.remove(first)
    await first.close()
    for _ in range(2):  # the same tracks on a new connection, twice: two reconnections
        await join(bridge, made, "2", 660, screen=True)

    def reconnected() -> bool:
        return row_of(reports, "site:2").get("experience", {}).get("reconnections") == 2

    await until(reconnected, within=5)
    row = row_of(reports, "site:2")
    # Fair (poor on a machine so busy that jitter lowers it too), 30 points off for two.
    assert "reconnected" in row["flags"] and row["level"] in ("fair", "poor"), row
    assert row["score"] <= 70 and row["where"] is not None, row
