"""The shipped holiday lists (2025 to 2027, with their source), the operator's lists over them,
and a year nobody listed: refused with its name, never counted as working days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from server.config import Config
from server.db import Database
from server.error_words import explain
from server.i18n import Catalogues
from server.identity import Identity
from server.models import PermitApplication
from server.permits import holidays
from server.permits import operations as ops
from server.permits.clock import Procedure
from server.permits.schemas import ApplicationFields
from server.permits.workdays import HolidaysUnknown, WorkingCalendar
from server.settings import load_config
from tests.permits.conftest import People, application_body

D = dt.date
KNOWN = WorkingCalendar.of_years(holidays.shipped(), "Asia/Ho_Chi_Minh")


def test_the_shipped_lists_name_their_source_and_cover_2025_to_2027() -> None:
    data = json.loads(holidays.SHIPPED.read_text(encoding="utf-8"))
    assert "Labour Code" in data["source"] and "Article 112" in data["source"]
    assert "government's yearly notice" in data["operator"]
    assert sorted(holidays.shipped()) == [2025, 2026, 2027]
    for year, days in holidays.shipped().items():
        assert D(year, 1, 1) in days or D(year, 1, 1).weekday() >= 5  # New Year
        assert D(year, 4, 30) in days or D(year, 4, 30).weekday() >= 5
        assert D(year, 9, 2) in days or D(year, 9, 2).weekday() >= 5
        assert all(day.year == year and day.weekday() < 5 for day in days)


def test_tet_and_the_hung_kings_fall_on_their_lunar_dates() -> None:
    # Tết: 29 January 2025, 17 February 2026, 6 February 2027 (a Saturday: the weekdays
    # around it are off); the 10th day of the 3rd lunar month: 7 April 2025, Sunday 26 April
    # 2026 (taken on Monday 27), 16 April 2027.
    for day in (D(2025, 1, 29), D(2026, 2, 17), D(2027, 2, 5), D(2027, 2, 8)):
        assert not KNOWN.is_working_day(day)
    for day in (D(2025, 4, 7), D(2026, 4, 27), D(2027, 4, 16)):
        assert not KNOWN.is_working_day(day)
    assert KNOWN.is_working_day(D(2027, 4, 15))


def test_a_missing_year_is_refused_with_its_name() -> None:
    with pytest.raises(HolidaysUnknown) as caught:
        KNOWN.deadline(D(2027, 12, 20), 15)  # runs into January 2028
    assert caught.value.year == 2028 and caught.value.status == 409
    assert "no public holidays are known for 2028" in caught.value.message
    assert "CONCORD_PERMIT_HOLIDAYS" in caught.value.message
    with pytest.raises(HolidaysUnknown):
        KNOWN.between(D(2024, 12, 20), D(2025, 1, 10))  # from 2024
    with pytest.raises(HolidaysUnknown):
        KNOWN.is_working_day(D(2028, 1, 3))
    assert KNOWN.deadline(D(2027, 11, 1), 15) == D(2027, 11, 22)  # inside 2027: counted


def test_the_refusal_is_told_in_vietnamese_and_lao_on_the_pages() -> None:
    refusal = HolidaysUnknown(2028)
    catalogues = Catalogues()
    vietnamese = explain(refusal, catalogues.get("vi").gettext)
    assert "2028" in vietnamese and "ngày nghỉ lễ" in vietnamese
    lao = explain(refusal, catalogues.get("lo").gettext)
    assert "2028" in lao and "ວັນພັກ" in lao


def test_the_operators_list_adds_a_year_and_replaces_one(tmp_path: Path) -> None:
    base = {"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_SECRET_KEY": "k" * 40}
    config = load_config(environ={**base, "CONCORD_PERMIT_HOLIDAYS": "2028-01-26,2027-02-12"})
    calendar = Procedure.from_config(config).calendar
    assert calendar.known_years == frozenset({2025, 2026, 2027, 2028})
    assert not calendar.is_working_day(D(2028, 1, 26))
    assert calendar.is_working_day(D(2027, 2, 8))  # 2027 is the operator's list now
    assert not calendar.is_working_day(D(2027, 2, 12))
    assert not calendar.is_working_day(D(2026, 2, 17))  # 2026 still shipped


async def test_submitting_into_an_unknown_year_is_refused(
    demo: Database, config: Config, people: People
) -> None:
    """Submitted on 20 December 2027, the 15 working days run into 2028: refused, named."""
    organiser = Identity(via="bearer", user_id=people.ids["organiser"], email="organiser@x")
    fields = ApplicationFields.model_validate(
        application_body(starts_on="2028-06-01", ends_on="2028-06-02")
    )
    late_2027 = dt.datetime(2027, 12, 20, 3, 0, tzinfo=dt.UTC)
    async with demo.session() as db, db.begin():
        made = await ops.create_application(db, organiser, 1, fields, now=late_2027)
    with pytest.raises(HolidaysUnknown) as caught:
        async with demo.session() as db, db.begin():
            await ops.submit(db, Procedure.from_config(config), organiser, made.id, now=late_2027)
    assert caught.value.year == 2028
    async with demo.session() as db:  # nothing was written: still a draft
        assert (await db.get(PermitApplication, made.id)).status == "draft"  # type: ignore[union-attr]
