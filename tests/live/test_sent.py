"""The payloads the media plane builds (a room's snapshot, a health report) go out through
their models as the same JSON text, field order included: the pages read them as they were
always sent (issue 18)."""

from __future__ import annotations

import json
from typing import Any

from rooms.booths import BoothInfo
from rooms.experience import Experience
from rooms.health import Alert, Change, Health, ServerLoad
from rooms.link_stats import Direction, LinkSample
from rooms.monitor import HealthReport
from rooms.room import BridgeRoom
from rooms.roster import SiteInfo
from server.live.sent import room_state
from server.monitoring.sent import HealthUpdate


def text(value: Any) -> str:
    return json.dumps(value)


def row(number: int) -> dict[str, Any]:
    """One site's row as ``rooms.monitor`` makes it."""
    up, down = Direction(0.01, 0.003, 800_000.0, 900), Direction(0.0, 0.002, 1_200_000.0, 1400)
    sample = LinkSample(1.7e9, "connected", 0.12, up, down, 29.5, 1, 3, 0.02, 40)
    lived = Experience(1, 0.4, 0.001, 0, 30.0)
    health = Health(
        f"site:{number}", "fair", 81, "fair", "good", "uplink", (), 1.7e9, sample, lived
    )
    who = {"name": f"Site {number}", "kind": "site", "booth": None}
    return {**health.public(), **who} | {"browser": {"candidate_rtt": 0.1}}


async def test_a_health_report_goes_out_as_the_room_made_it() -> None:
    alert = Alert(1, "site:3", "poor", 1.7e9, "poor for 30 s", {"where": "uplink"}).public()
    changes = [
        Change("level", "site:2", {"from": "good", "to": "fair", "where": "uplink"}),
        Change("connection", "site:2", {"from": "connected", "to": "disconnected"}),
        Change("alert", "site:3", alert),
    ]
    report = HealthReport(
        1.7e9, [row(n) for n in range(1, 6)], changes, [alert], ServerLoad(0.01, 0.5)
    )
    sent = HealthUpdate.of(4, report).wire()
    assert text(sent) == text(
        {
            "conference_id": 4,
            "at": report.at,
            "rows": report.rows,
            "alerts": report.alerts,
            "changes": [{"type": c.type, "subject": c.subject, **c.data} for c in changes],
            "server": {"loop_lag": 0.01, "cpu": 0.5},
        }
    )


async def test_the_room_state_is_the_rooms_snapshot_with_site_numbers() -> None:
    sites = {str(n): SiteInfo(f"Site {n}", precedence=n, main_hall=n == 1) for n in (1, 2, 3)}
    booth = BoothInfo("lo", frozenset({"vi"}), ("interpreter:5", "interpreter:6"), names=("A",))
    room = BridgeRoom(
        "t", sites, ice_addresses=["127.0.0.1"], on_event=lambda e: None, booths={"lo": booth}
    )
    try:
        for site in sites:
            room.arrive(site)
            room.admit(site)
        room.request_floor("3")
        room.grant_floor("2", 300)
        snapshot = room.snapshot()
        sent = room_state(9, snapshot).wire()
    finally:
        await room.close()
    assert sent["conference_id"] == 9
    assert text(sent["sites"]) == text(
        [s | {"site_id": int(s["site_id"])} for s in snapshot["sites"]]
    )
    assert sent["floor"] | {"holder": "2", "queue": ["3"]} == snapshot["floor"]
    assert text(sent["interpretation"]) == text(snapshot["interpretation"])
    assert list(sent) == [
        "conference_id",
        "locked",
        "sites",
        "floor",
        "presenter",
        "speaker",
        "grid",
        "server_time",
        "interpretation",
    ]
