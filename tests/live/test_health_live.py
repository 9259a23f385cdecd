"""Connection health over socket.io with real aiortc sites: the dashboard's reports, the
pages' own statistics, a lost site's alert and its acknowledgement, the stored samples and
timeline, and the room closing when the conference ends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from server.db import Database
from server.keys import HEALTH_HUB, LIVE_ROOMS
from server.models import HealthSample, RoomEventRecord
from tests.live.conftest import until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MOU, HALL, CHAMPASAK = 1, 1, 2


async def raw(site: Any, event: str, data: dict[str, Any]) -> dict[str, Any]:
    """A site's call whose refusal is the point (``SimulatedSite.call`` raises on one)."""
    answer = await site.sio.call(event, data, namespace="/room", timeout=20)
    assert isinstance(answer, dict)
    return answer


def latest_rows(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["subject"]: r for r in reports[-1]["rows"]} if reports else {}


async def test_technicians_see_health_alerts_and_acknowledge_them(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](MOU)
    reports: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    chair.sio.on("health.report", reports.append, namespace="/room")
    chair.sio.on("health.change", changes.append, namespace="/room")
    watched = await chair.call("health.watch")
    assert watched["ok"] and watched["conference_id"] == MOU

    sites = []
    for site_id, name, tone in ((HALL, "hall", 440), (CHAMPASAK, "champasak", 880)):
        site = await live["invite"](MOU, site_id, name, tone)
        assert await site.start() == "lobby"
        assert (await chair.call("admit", {"site_id": site_id}))["ok"]
        await until(site.admitted.is_set, 5)
        await site.connect_media()
        sites.append(site)
    hall, champasak = sites

    await until(lambda: len(latest_rows(reports)) == 2, 15, "both sites in a report")
    await until(
        lambda: all(r["level"] == "good" for r in latest_rows(reports).values()), 10, reports
    )
    # (A connection's first window only sets its counters.)
    await until(lambda: latest_rows(reports)[f"site:{CHAMPASAK}"]["uplink"]["packets"] > 0, 5)
    row = latest_rows(reports)[f"site:{CHAMPASAK}"]
    assert row["kind"] == "site" and row["uplink"]["bitrate"] > 10_000

    # The page's own statistics: checked, and shown with the next report.
    bad = await raw(champasak, "health.report", {"inbound_loss": 5})
    assert bad["ok"] is False and bad["code"] == "invalid" and "inbound_loss" in bad["detail"]
    odd = await raw(champasak, "health.report", {"loss_everywhere": 1})
    assert odd["ok"] is False and odd["code"] == "invalid"
    # What its people experienced: a concealed share needs the samples it is a share of.
    unweighted = await raw(champasak, "health.report", {"concealed_audio": 0.2})
    assert unweighted["code"] == "invalid" and "audio_samples" in unweighted["detail"]
    for wrong in ({"reconnections": True}, {"reconnections": -1}, {"concealed_audio": "0.2"}):
        refused = await raw(champasak, "health.report", {**wrong, "audio_samples": 10})
        assert refused["code"] == "invalid" and next(iter(wrong)) in refused["detail"], refused
    sent = {"inbound_loss": 0.002, "candidate_rtt": 0.004, "limitation": "none", "freezes": 0}
    assert (await champasak.call("health.report", sent))["ok"]
    await until(lambda: latest_rows(reports)[f"site:{CHAMPASAK}"]["browser"], 5, "the page's")
    assert latest_rows(reports)[f"site:{CHAMPASAK}"]["browser"] == sent
    # (None of the refused reports was kept: nothing concealed, no reconnection.)
    assert latest_rows(reports)[f"site:{CHAMPASAK}"]["experience"]["concealed"] is None
    assert latest_rows(reports)[f"site:{CHAMPASAK}"]["experience"]["reconnections"] == 0
    froze = {"freezes_delta": 1, "freeze_seconds_delta": 0.5}
    for n in range(5):  # (a concealed share counts over 10 s of audio: 5 reports)
        heard = {"concealed_audio": 0.08, "audio_samples": 96_000} | (froze if n == 0 else {})
        assert (await champasak.call("health.report", heard))["ok"]
    lived = lambda: latest_rows(reports)[f"site:{CHAMPASAK}"]  # noqa: E731
    await until(lambda: lived()["experience"]["concealed"] == 0.08, 5, "the experience")
    # Fair at least (8% concealed: 3% lowers the downlink by one), and 47 points off (8%
    # concealed, a freeze, 0.5 s of 30 frozen), more if the link itself suffers.
    assert lived()["experience"]["freezes"] == 1 and lived()["level"] in ("fair", "poor")
    assert {"concealed_audio", "frozen_received_video"} <= set(lived()["flags"])
    assert lived()["score"] <= 100 - 40 - 5 - 2, lived()
    assert (await chair.call("health.report", sent))["code"] == "forbidden"
    assert (await raw(hall, "health.watch", {}))["code"] == "forbidden"
    asked = await chair.call("health.keyframe", {"site_id": CHAMPASAK})
    assert asked["ok"] and asked["asked"] == ["camera", "camera.low"]  # both qualities

    # Champasak's media stops: down, an alert; the technician acknowledges it.
    # (Taken away first: a synthetic site renews a connection that closes on its own.)
    media, champasak.media = champasak.media, None
    assert media is not None
    await media.close()
    await until(lambda: latest_rows(reports)[f"site:{CHAMPASAK}"]["level"] == "down", 15, "down")
    [alert] = reports[-1]["alerts"]
    assert alert["kind"] == "down" and alert["subject"] == f"site:{CHAMPASAK}"
    assert latest_rows(reports)[f"site:{HALL}"]["level"] == "good"
    acked = await chair.call("health.ack", {"alert_id": alert["id"]})
    assert acked["ok"] and acked["alert"]["acknowledged_by"]
    await until(lambda: any(c["type"] == "acknowledged" for c in changes), 5)
    assert (await chair.call("health.ack", {"alert_id": 999}))["code"] == "unknown_alert"
    again = await chair.call("health.watch")
    assert [a["id"] for a in again["alerts"]] == [alert["id"]]
    assert set(again["history"]) == {f"site:{HALL}", f"site:{CHAMPASAK}"}
    assert len(again["history"][f"site:{HALL}"]) >= 3

    # It rejoins: good again, the alert cleared.
    await champasak.connect_media()
    await until(lambda: not reports[-1]["alerts"], 15, "the alert to clear")

    async with demo.session() as db:
        samples = await db.scalar(
            select(func.count()).select_from(HealthSample).where(HealthSample.conference_id == MOU)
        )
        timeline = list(
            await db.scalars(
                select(RoomEventRecord.type)
                .where(RoomEventRecord.site_id == CHAMPASAK, RoomEventRecord.type.like("health.%"))
                .order_by(RoomEventRecord.id)
            )
        )
    assert samples and samples >= 6
    for kind in ("health.level", "health.alert", "health.acknowledged", "health.cleared"):
        assert kind in timeline, timeline

    # The conference ends: its room closes and its figures leave memory.
    app = live["client"].app
    assert app[LIVE_ROOMS].get(MOU) is not None
    response = await live["client"].post(
        f"/api/conferences/{MOU}/status",
        json={"status": "ended"},
        headers={"X-CSRF-Token": live["csrf"]},
    )
    assert response.status == 200, await response.text()
    assert app[LIVE_ROOMS].get(MOU) is None
    assert (await app[HEALTH_HUB].snapshot(MOU))["rows"] == []
