"""The post-conference quality report: exact figures from known samples and events, the page,
the CSV, ``?from=&to=`` and who may open them, on SQLite and PostgreSQL.

The fixture (conference 1, from T0 on, one sample every 2 s):

- site A, 110 samples: i 0–29 good (score 95), 30–59 good (85), 60–89 fair (60), 90–91 down,
  92–98 poor (30), 99–101 down, 102–109 poor. Two ``health.level`` events into down, one
  alert raised and acknowledged, one ``site.reconnecting`` and one ``site.left``.
- site B, 50 samples all good (98); round trip 20 ms for the first 25, 30 ms after.
- an interpreter, 10 samples: 5 good then 5 down, no events (disconnections from samples).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db import Database
from server.models import HealthSample, RoomEventRecord, Site
from server.monitoring.report import QualityReport, Window, downsample, quality_report
from tests.conftest import sign_in_english

Client = TestClient[Any, Any]
CONFERENCE = 1
# Yesterday at 09:00 UTC: within the retention period (the hub prunes older samples).
T0 = dt.datetime.now(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0) - dt.timedelta(
    days=1
)
INTERPRETER = "interpreter:4242"


def at(i: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=2 * i)


def level_of_a(i: int) -> tuple[str, int]:
    if i < 30:
        return "good", 95
    if i < 60:
        return "good", 85
    if i < 90:
        return "fair", 60
    if i in (90, 91, 99, 100, 101):
        return "down", 0
    return "poor", 30


FIGURES = {"good": (0.04, 0.0), "fair": (0.08, 0.02), "poor": (0.2, 0.08), "down": (None, None)}


def sample(subject: str, name: str, i: int, level: str, score: int, **kw: Any) -> HealthSample:
    rtt, loss = FIGURES[level]
    values: dict[str, Any] = {
        "rtt": rtt,
        "up_loss": loss,
        "down_loss": None if loss is None else loss / 2,
    }
    values.update(kw)
    return HealthSample(
        conference_id=CONFERENCE,
        subject=subject,
        name=name,
        at=at(i),
        level=level,
        score=score,
        data={
            "where": "uplink" if level != "good" else None,
            "flags": [],
            "connection": "connected",
        },
        **values,
    )


@pytest.fixture
async def sites(demo: Database) -> tuple[int, int]:
    """Site ids A and B of conference 1, with the fixture's samples and events stored."""
    async with demo.session() as db, db.begin():
        ids = (await db.scalars(select(Site.id).where(Site.conference_id == CONFERENCE))).all()
        a, b = ids[0], ids[1]
        rows: list[Any] = []
        for i in range(110):
            level, score = level_of_a(i)
            rows.append(sample(f"site:{a}", "Alpha hall", i, level, score))
        for i in range(50):
            rows.append(
                sample(f"site:{b}", "Beta hall", i, "good", 98, rtt=0.02 if i < 25 else 0.03)
            )
        for i in range(10):
            level, score = ("good", 90) if i < 5 else ("down", 0)
            rows.append(sample(INTERPRETER, "Lao interpreter", i, level, score))

        def event(i: int, type_: str, site: int | None = a, /, **data: Any) -> RoomEventRecord:
            return RoomEventRecord(
                conference_id=CONFERENCE, at=at(i), type=type_, site_id=site, data=data
            )

        subject = f"site:{a}"
        alert = {"id": 1, "subject": subject, "kind": "down", "detail": "connection lost"}
        rows += [
            event(60, "health.level", subject=subject, to="fair", **{"from": "good"}),
            event(90, "health.level", subject=subject, to="down", **{"from": "fair"}),
            event(90, "health.alert", **alert),
            event(90, "site.reconnecting"),
            event(92, "health.level", subject=subject, to="poor", **{"from": "down"}),
            event(95, "health.acknowledged", **{**alert, "acknowledged_by": "Tech Nguyen"}),
            event(99, "health.level", subject=subject, to="down", **{"from": "poor"}),
            event(102, "health.level", subject=subject, to="poor", **{"from": "down"}),
            event(103, "health.cleared", **alert),
            event(109, "site.left"),
            event(10, "site.left", b),  # before the window of the narrowing test
            event(5, "floor.granted", b),  # not a health event: ignored
        ]
        db.add_all(rows)
    return a, b


async def report_of(database: Database, window: Window | None = None) -> QualityReport:
    async with database.session() as db:
        return await quality_report(db, CONFERENCE, window)


async def test_the_figures_of_each_subject(demo: Database, sites: tuple[int, int]) -> None:
    a, b = sites
    report = await report_of(demo)
    # Worst first, by average score: the interpreter 45, A 69.5, B 98.
    assert [s.subject for s in report.subjects] == [INTERPRETER, f"site:{a}", f"site:{b}"]
    interpreter, site_a, site_b = report.subjects

    assert site_a.name == "Alpha hall" and site_a.kind == "site"
    assert site_a.samples == 110 and site_a.connected_seconds == 220
    assert site_a.seconds == {"good": 120, "fair": 60, "poor": 30, "down": 10}
    assert site_a.percent == pytest.approx(
        {"good": 6000 / 110, "fair": 3000 / 110, "poor": 1500 / 110, "down": 500 / 110}
    )
    assert site_a.average_score == pytest.approx(7650 / 110)
    assert site_a.worst_score == 0
    assert site_a.median_rtt == pytest.approx(0.04)  # 105 known: the 53rd is still good
    assert site_a.median_up_loss == pytest.approx(0.0)
    worst = [(m.at, m.samples, m.score) for m in site_a.worst_minutes]
    assert worst == [
        (T0 + dt.timedelta(minutes=3), 20, pytest.approx(22.5)),
        (T0 + dt.timedelta(minutes=2), 30, pytest.approx(60.0)),
        (T0 + dt.timedelta(minutes=1), 30, pytest.approx(85.0)),
    ]
    assert site_a.worst_minutes[0].rtt == pytest.approx(0.2)
    assert site_a.worst_minutes[1].up_loss == pytest.approx(0.02)
    assert site_a.disconnections == 2
    assert (site_a.left, site_a.reconnecting) == (1, 1)
    assert [(o.at, o.kind) for o in site_a.outages] == [
        (at(90), "down"),
        (at(90), "reconnecting"),
        (at(99), "down"),
        (at(109), "left"),
    ]
    assert (site_a.alerts_raised, site_a.alerts_acknowledged) == (1, 1)
    (alert,) = site_a.alerts
    assert (alert.kind, alert.detail, alert.acknowledged_by) == (
        "down",
        "connection lost",
        "Tech Nguyen",
    )
    assert (alert.at, alert.acknowledged_at, alert.cleared_at) == (at(90), at(95), at(103))
    assert site_a.worst_level == "down"

    assert site_b.seconds == {"good": 100, "fair": 0, "poor": 0, "down": 0}
    assert site_b.percent["good"] == pytest.approx(100.0)
    assert site_b.median_rtt == pytest.approx(0.025)  # the mean of the middle two of 50
    assert site_b.disconnections == 0 and site_b.left == 1 and site_b.alerts == []

    assert interpreter.kind == "interpreter"
    assert interpreter.seconds == {"good": 10, "fair": 0, "poor": 0, "down": 10}
    assert interpreter.disconnections == 1  # no level events: counted from the samples
    assert [len(s.chart) for s in report.subjects] == [1, 4, 2]
    assert report.first == T0 and report.last == at(109)


async def test_a_window_narrows_the_report(demo: Database, sites: tuple[int, int]) -> None:
    a, _ = sites
    report = await report_of(demo, Window(at(60), at(90)))
    assert [s.subject for s in report.subjects] == [f"site:{a}"]
    (site_a,) = report.subjects
    assert site_a.seconds == {"good": 0, "fair": 60, "poor": 0, "down": 0}
    assert site_a.disconnections == 0  # its level events in the window: only good → fair
    assert site_a.alerts == [] and site_a.left == 0


def test_long_conferences_are_downsampled() -> None:
    from server.monitoring.report import Minute

    minutes = [
        Minute(T0 + dt.timedelta(minutes=i), 30, float(i % 2) * 10, None, 0.01, None)
        for i in range(1500)
    ]
    points = downsample(minutes, limit=600)
    assert len(points) == 500  # runs of 3 minutes
    assert points[0].samples == 90 and points[0].score == pytest.approx(10 / 3)
    assert points[0].rtt is None and points[0].up_loss == pytest.approx(0.01)


async def test_the_page_shows_the_report(client: Client, sites: tuple[int, int]) -> None:
    csrf = await sign_in_english(client, "technician@concord.example")
    response = await client.get(f"/conferences/{CONFERENCE}/quality")
    assert response.status == 200
    html = await response.text()
    for text in ("Alpha hall", "Beta hall", "Lao interpreter", "Download CSV", "connection lost"):
        assert text in html
    assert f'href="/conferences/{CONFERENCE}/quality.csv"' in html
    assert html.index("Lao interpreter") < html.index("Alpha hall") < html.index("Beta hall")
    assert "54.5%" in html and "3:40" in html  # 60 of 110 samples good; 220 s connected
    assert html.count('class="worst-minute"') == 3 + 1 + 2
    assert "Tech Nguyen" in html
    assert 'id="quality-charts"' in html and "js/quality_report.js" in html

    page = await client.get(f"/conferences/{CONFERENCE}")
    assert f'href="/conferences/{CONFERENCE}/quality"' in await page.text()
    # Figures in the reader's language: a Vietnamese technician reads "54,5%".
    await client.patch("/api/me", json={"locale": "vi"}, headers={"X-CSRF-Token": csrf})
    html = await (await client.get(f"/conferences/{CONFERENCE}/quality")).text()
    assert 'lang="vi"' in html and "54,5%" in html


async def test_the_csv_has_every_sample(client: Client, sites: tuple[int, int]) -> None:
    await sign_in_english(client, "organiser@concord.example")
    response = await client.get(f"/conferences/{CONFERENCE}/quality.csv")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="conference-{CONFERENCE}-quality.csv"'
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:5] == ["at", "subject", "name", "level", "score"]
    assert len(rows) == 1 + 110 + 50 + 10
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["at"] == T0.isoformat() and first["connection"] == "connected"
    down = [r for r in rows[1:] if r[3] == "down"]
    assert len(down) == 10 and all(r[5] == "" for r in down[:5])

    narrowed = await client.get(
        f"/conferences/{CONFERENCE}/quality.csv",
        params={"from": at(60).isoformat(), "to": at(90).isoformat()},
    )
    rows = list(csv.reader(io.StringIO(await narrowed.text())))
    assert len(rows) == 1 + 30 and {r[3] for r in rows[1:]} == {"fair"}

    page = await client.get(
        f"/conferences/{CONFERENCE}/quality",
        params={"from": (T0 + dt.timedelta(minutes=2)).isoformat()},
    )
    html = await page.text()
    assert page.status == 200 and "Alpha hall" in html and "Beta hall" not in html


@pytest.mark.parametrize("path", ["quality", "quality.csv"])
async def test_bad_instants_are_refused(client: Client, path: str) -> None:
    await sign_in_english(client, "organiser@concord.example")
    url = f"/conferences/{CONFERENCE}/{path}"
    response = await client.get(
        url, params={"from": "yesterday"}, headers={"Accept": "application/json"}
    )
    assert response.status == 422
    body = await response.json()
    assert [e["field"] for e in body["errors"]] == ["from"]
    backwards = await client.get(
        url,
        params={"from": "2026-01-10T10:00:00Z", "to": "2026-01-10T09:00:00Z"},
        headers={"Accept": "application/json"},
    )
    assert backwards.status == 422
    assert (await backwards.json())["errors"][0]["field"] == "to"


async def test_who_may_see_it(client: Client, other_client: Client) -> None:
    await sign_in_english(client, "delegate@concord.example")
    assert (await client.get("/conferences/2/quality")).status == 403
    assert (await client.get("/conferences/2/quality.csv")).status == 403
    await sign_in_english(other_client, "organiser@concord.example")
    assert (await other_client.get("/conferences/999999/quality")).status == 404
    assert (await other_client.get("/conferences/999999/quality.csv")).status == 404
    empty = await other_client.get(f"/conferences/{CONFERENCE}/quality")
    assert empty.status == 200
    assert "No connection health was recorded" in await empty.text()
