"""The processing report, computed from stored steps, against figures worked out by hand.

Six applications in the first half of 2026 (Viet Nam's 2026 holidays, 15 working days):

| | received | decided | working days | due | on time |
|---|---|---|---|---|---|
| A | Mon 5 Jan (submitted Sun 4 Jan 20:00 UTC) | Fri 16 Jan, approved | 9 | 26 Jan | yes |
| B | Tue 10 Feb | Tue 3 Mar, approved | 10 (Tết 16–20 Feb skipped) | 10 Mar | yes |
| C | Tue 20 Jan | Fri 13 Feb, rejected | 18 | 10 Feb | no |
| D | Mon 16 Mar (resubmitted) | Fri 27 Mar, approved | 9 | 6 Apr | yes |
| E | Mon 20 Apr | Fri 8 May, rejected | 11 (27 Apr, 30 Apr, 1 May off) | 14 May | yes |
| F | Wed 20 May | (waiting) | | | |

D was first submitted on Mon 2 Mar and sent back for changes on Thu 5 Mar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.config import Config
from server.db import Database
from server.identity import Identity
from server.models import Conference, Role
from server.permits import holidays
from server.permits import operations as ops
from server.permits.clock import Procedure
from server.permits.report import Handled, build_report, periods_between
from server.permits.schemas import ApplicationFields, Outcome
from server.permits.workdays import WorkingCalendar
from tests.permits.conftest import Client, People, application_body


def at(day: str, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}+07:00").astimezone(dt.UTC)


# (submissions, answers): a submission is a moment; an answer is (moment, outcome, comment).
HISTORIES: list[tuple[list[dt.datetime], list[tuple[dt.datetime, Outcome]]]] = [
    ([dt.datetime(2026, 1, 4, 20, 0, tzinfo=dt.UTC)], [(at("2026-01-16"), "approve")]),  # A
    ([at("2026-02-10")], [(at("2026-03-03"), "approve")]),  # B
    ([at("2026-01-20")], [(at("2026-02-13"), "reject")]),  # C
    (
        [at("2026-03-02"), at("2026-03-16")],
        [(at("2026-03-05"), "request_changes"), (at("2026-03-27"), "approve")],
    ),  # D
    ([at("2026-04-20")], [(at("2026-05-08", "16:30"), "reject")]),  # E
    ([at("2026-05-20")], []),  # F
]


@pytest.fixture
async def history(demo: Database, config: Config, people: People) -> None:
    """Play the six applications through the operations, at their moments."""
    procedure = Procedure.from_config(config)
    organiser = Identity(
        via="bearer",
        user_id=people.ids["organiser"],
        email="o@x",
        roles=frozenset({Role.ORGANISER}),
    )
    approver = Identity(
        via="bearer", user_id=people.ids["approver"], email="a@x", roles=frozenset({Role.APPROVER})
    )
    fields = ApplicationFields.model_validate(
        application_body(starts_on="2026-12-01", ends_on="2026-12-02")
    )
    for index, (submissions, answers) in enumerate(HISTORIES):
        async with demo.session() as db, db.begin():
            conference = Conference(
                slug=f"report-{index}",
                title=f"Report fixture {index}",
                starts_at=at("2026-12-01"),
                ends_at=at("2026-12-02"),
                organiser_id=people.ids["organiser"],
            )
            db.add(conference)
            await db.flush()
            made = await ops.create_application(
                db, organiser, conference.id, fields, now=submissions[0] - dt.timedelta(hours=1)
            )
            events: list[tuple[dt.datetime, str, Any]] = [(s, "submit", None) for s in submissions]
            events += [(moment, "answer", outcome) for moment, outcome in answers]
            for moment, kind, outcome in sorted(events, key=lambda e: e[0]):
                if kind == "submit":
                    await ops.submit(db, procedure, organiser, made.id, now=moment)
                else:
                    await ops.decide(
                        db, procedure, approver, made.id, outcome, "reasons", now=moment
                    )


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["period"],
        row["submitted"],
        row["decided"],
        row["approved"],
        row["rejected"],
        row["median_working_days"],
        row["p90_working_days"],
        row["on_time_share"],
        row["change_vs_deadline"],
    )


async def test_monthly_report(client: Client, people: People, history: None) -> None:
    response = await client.get(
        "/api/permits/report?period=month&from=2026-01-01&to=2026-06-30",
        headers=people("approver"),
    )
    assert response.status == 200, await response.text()
    report = await response.json()
    assert report["deadline_working_days"] == 15
    assert [figures(row) for row in report["rows"]] == [
        ("2026-01", 2, 1, 1, 0, 9.0, 9.0, 1.0, -0.4),
        ("2026-02", 1, 1, 0, 1, 18.0, 18.0, 0.0, 0.2),
        ("2026-03", 1, 2, 2, 0, 9.5, 9.9, 1.0, -0.3667),
        ("2026-04", 1, 0, 0, 0, None, None, None, None),
        ("2026-05", 1, 1, 0, 1, 11.0, 11.0, 1.0, -0.2667),
        ("2026-06", 0, 0, 0, 0, None, None, None, None),
    ]
    # Working days 9, 18, 10, 9, 11: median 10, p90 = 11 + 0.6 × (18 − 11) = 15.2.
    assert figures(report["total"]) == ("total", 6, 5, 3, 2, 10.0, 15.2, 0.8, -0.3333)


async def test_quarterly_and_yearly_report(client: Client, people: People, history: None) -> None:
    quarters = await (
        await client.get(
            "/api/permits/report?period=quarter&from=2026-01-01&to=2026-06-30",
            headers=people("organiser"),
        )
    ).json()
    assert [figures(row) for row in quarters["rows"]] == [
        # 9, 9, 10, 18: median 9.5; p90 = 10 + 0.7 × 8 = 15.6; 3 of 4 on time.
        ("2026-Q1", 4, 4, 3, 1, 9.5, 15.6, 0.75, -0.3667),
        ("2026-Q2", 2, 1, 0, 1, 11.0, 11.0, 1.0, -0.2667),
    ]
    year = await (
        await client.get(
            "/api/permits/report?period=year&from=2026-01-01&to=2026-12-31",
            headers=people("approver"),
        )
    ).json()
    assert [figures(row) for row in year["rows"]] == [
        ("2026", 6, 5, 3, 2, 10.0, 15.2, 0.8, -0.3333)
    ]
    # A narrower range keeps only what happened inside it.
    march = await (
        await client.get(
            "/api/permits/report?period=month&from=2026-03-01&to=2026-03-31",
            headers=people("approver"),
        )
    ).json()
    assert [figures(row) for row in march["rows"]] == [
        ("2026-03", 1, 2, 2, 0, 9.5, 9.9, 1.0, -0.3667)
    ]
    page = await client.get(
        "/permits/report?period=quarter&from=2026-01-01&to=2026-06-30", headers=people("approver")
    )
    html = await page.text()
    assert page.status == 200 and "2026-Q1" in html and "−37%" in html and "75.0%" in html


async def test_report_refuses_bad_ranges(client: Client, people: People) -> None:
    for query, code in (
        ("period=week", "bad_period"),
        ("from=2026-02-30", "bad_range"),
        ("from=2026-06-01&to=2026-01-01", "bad_range"),
        ("from=2000-01-01&to=2026-01-01", "bad_range"),
    ):
        response = await client.get(f"/api/permits/report?{query}", headers=people("approver"))
        assert response.status == 422 and (await response.json())["code"] == code
    assert (await client.get("/api/permits/report", headers=people("technician"))).status == 403


def test_thirty_percent_faster_than_the_law() -> None:
    """The seed's claim in the report's terms: a median of 10.5 against 15 days is −30%."""
    procedure = Procedure(WorkingCalendar.of(holidays.shipped()[2026], "Asia/Ho_Chi_Minh"), 15)
    jan = dt.date(2026, 1, 5)
    handled = [
        Handled(jan, jan, procedure.calendar.deadline(jan, days), "approved") for days in (10, 11)
    ]
    report = build_report(handled, procedure, "year", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert report.total.median_working_days == 10.5
    assert report.total.change_vs_deadline == -0.3
    assert periods_between(dt.date(2026, 2, 15), dt.date(2026, 11, 1), "quarter") == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]
