"""Working-day arithmetic: weekends, holidays, Tết, the authority's time zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from server.config import ConfigError
from server.permits import holidays
from server.permits.clock import Procedure
from server.permits.workdays import WorkingCalendar
from server.settings import load_config

D = dt.date
VN = WorkingCalendar.of(holidays.shipped()[2026], "Asia/Ho_Chi_Minh")
PLAIN = WorkingCalendar()


def test_weekends_are_skipped() -> None:
    # Friday 9 January 2026 + 1 working day is Monday 12.
    assert PLAIN.deadline(D(2026, 1, 9), 1) == D(2026, 1, 12)
    assert PLAIN.deadline(D(2026, 1, 5), 5) == D(2026, 1, 12)  # Monday + 5 = next Monday
    assert PLAIN.deadline(D(2026, 1, 5), 0) == D(2026, 1, 5)
    assert not PLAIN.is_working_day(D(2026, 1, 10)) and PLAIN.is_working_day(D(2026, 1, 12))


def test_received_on_a_day_off_counts_from_the_next_working_day() -> None:
    # Saturday 10 January: day 1 is Monday 12, like for a dossier received on Friday 9.
    assert PLAIN.deadline(D(2026, 1, 10), 1) == D(2026, 1, 12)
    assert PLAIN.deadline(D(2026, 1, 10), 15) == PLAIN.deadline(D(2026, 1, 9), 15)
    # New Year's Day (Thursday) is a holiday: received then, day 1 is Friday 2 January.
    assert VN.deadline(D(2026, 1, 1), 1) == D(2026, 1, 2)


def test_a_deadline_across_tet() -> None:
    # Received Tuesday 10 February 2026; Tết closes offices 14–22 February.
    assert VN.deadline(D(2026, 2, 10), 15) == D(2026, 3, 10)
    assert PLAIN.deadline(D(2026, 2, 10), 15) == D(2026, 3, 3)  # a week sooner without Tết
    assert VN.between(D(2026, 2, 10), D(2026, 3, 10)) == 15
    assert VN.between(D(2026, 2, 13), D(2026, 2, 23)) == 1  # Friday before Tết → Monday after
    assert all(not VN.is_working_day(D(2026, 2, day)) for day in range(14, 23))


def test_holidays_of_april_and_may() -> None:
    # Hùng Kings (Sunday 26 April, moved to Monday 27), 30 April and 1 May.
    assert VN.deadline(D(2026, 4, 24), 1) == D(2026, 4, 28)
    assert VN.between(D(2026, 4, 20), D(2026, 5, 8)) == 11
    assert VN.deadline(D(2026, 4, 20), 15) == D(2026, 5, 14)


def test_between_counts_after_start_up_to_end() -> None:
    assert VN.between(D(2026, 1, 5), D(2026, 1, 5)) == 0
    assert VN.between(D(2026, 1, 5), D(2026, 1, 6)) == 1
    assert VN.between(D(2026, 1, 9), D(2026, 1, 11)) == 0  # the weekend
    assert VN.between(D(2026, 3, 10), D(2026, 2, 10)) == -15
    assert VN.between(D(2025, 12, 31), D(2026, 1, 2)) == 1  # 1 January is off


def test_deadline_and_between_agree() -> None:
    for offset in range(0, 60):
        start = D(2026, 1, 1) + dt.timedelta(days=offset)
        for days in (1, 5, 15, 30):
            assert VN.between(start, VN.deadline(start, days)) == days
    with pytest.raises(ValueError):
        VN.deadline(D(2026, 1, 5), -1)


def test_dates_are_the_authoritys() -> None:
    late_evening_utc = dt.datetime(2026, 2, 10, 20, 0, tzinfo=dt.UTC)  # 03:00 on the 11th
    assert VN.local_date(late_evening_utc) == D(2026, 2, 11)
    assert PLAIN.local_date(late_evening_utc) == D(2026, 2, 10)


def test_holidays_and_deadline_come_from_the_configuration(tmp_path: Path) -> None:
    base = {"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_SECRET_KEY": "k" * 40}
    config = load_config(environ=base)
    assert config.permit_deadline_working_days == 15
    assert config.permit_holidays == ()  # the shipped lists: holidays_vn.json
    assert not Procedure.from_config(config).calendar.is_working_day(D(2026, 2, 17))
    assert config.permit_time_zone == "Asia/Ho_Chi_Minh"
    custom = load_config(
        environ={
            **base,
            "CONCORD_PERMIT_HOLIDAYS": "2027-02-08, 2027-02-05",
            "CONCORD_PERMIT_DEADLINE_WORKING_DAYS": "10",
        }
    )
    assert custom.permit_holidays == (D(2027, 2, 5), D(2027, 2, 8))
    assert custom.permit_deadline_working_days == 10
    with pytest.raises(ConfigError) as caught:
        load_config(
            environ={
                **base,
                "CONCORD_PERMIT_HOLIDAYS": "2027-02-30",
                "CONCORD_PERMIT_DEADLINE_WORKING_DAYS": "0",
                "CONCORD_PERMIT_TIME_ZONE": "Asia/Nowhere",
            }
        )
    problems = "\n".join(caught.value.problems)
    assert "CONCORD_PERMIT_HOLIDAYS: '2027-02-30' is not a date" in problems
    assert "CONCORD_PERMIT_DEADLINE_WORKING_DAYS must be between 1 and 365" in problems
    assert "'Asia/Nowhere' is not an IANA time zone" in problems


def test_toml_takes_a_list_of_dates(tmp_path: Path) -> None:
    folder = tmp_path
    file = folder / "concord.toml"
    file.write_text('permit_holidays = [2026-09-02, "2026-09-01"]\n', encoding="utf-8")
    config = load_config(
        environ={"CONCORD_DATA_DIR": str(folder), "CONCORD_SECRET_KEY": "k" * 40},
        config_file=file,
    )
    assert config.permit_holidays == (D(2026, 9, 1), D(2026, 9, 2))
