"""Expanding series: EXDATE, moved and cancelled occurrences, windows, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.ical.ics import CalendarEvent, Recurrence, Status, expand, parse

from .independent import produce

PARIS = ZoneInfo("Europe/Paris")
VIENTIANE = ZoneInfo("Asia/Vientiane")
UID = "coordination@concord.example"
STAMP = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 9, month: int = 6, zone: ZoneInfo = PARIS) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=zone)


def series(rule: str = "FREQ=WEEKLY;BYDAY=TU;COUNT=6", **changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": UID,
        "summary": "Coordination",
        "start": at(2),
        "end": at(2, 10),
        "time_zone": "Europe/Paris",
        "recurrence": Recurrence(rule),
        "dtstamp": STAMP,
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def moved(original: datetime, start: datetime, **changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": UID,
        "summary": "Coordination (moved)",
        "start": start,
        "end": start + timedelta(hours=1),
        "time_zone": "Europe/Paris",
        "recurrence_id": original,
        "sequence": 1,
        "dtstamp": STAMP,
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


WINDOW = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))


def local_days(event: CalendarEvent, start: datetime, end: datetime) -> list[str]:
    return [f"{o.local_start():%m-%d %H:%M}" for o in expand(event, start, end)]


def test_plain_series() -> None:
    assert local_days(series(), *WINDOW) == [
        "06-02 09:00",
        "06-09 09:00",
        "06-16 09:00",
        "06-23 09:00",
        "06-30 09:00",
        "07-07 09:00",
    ]


def test_exdate_removes_an_occurrence() -> None:
    event = series(recurrence=Recurrence("FREQ=WEEKLY;BYDAY=TU;COUNT=6", (at(9), at(23))))
    assert local_days(event, *WINDOW) == [
        "06-02 09:00",
        "06-16 09:00",
        "06-30 09:00",
        "07-07 09:00",
    ]


def test_recurrence_id_moves_an_occurrence_and_keeps_its_identity() -> None:
    event = replace(series(), overrides=(moved(at(16), at(17, 14)),))
    occurrences = expand(event, *WINDOW)
    assert [f"{o.local_start():%m-%d %H:%M}" for o in occurrences][2] == "06-17 14:00"
    third = occurrences[2]
    assert third.moved and third.recurrence_id == at(16).astimezone(UTC)
    assert third.source.summary == "Coordination (moved)"
    assert third.end - third.start == timedelta(hours=1)
    assert not occurrences[0].moved and occurrences[0].source is event


def test_a_moved_occurrence_enters_or_leaves_the_window() -> None:
    # The 30 June occurrence is moved to 3 July; the 7 July one to 29 June.
    event = replace(
        series(), overrides=(moved(at(30), at(3, 9, month=7)), moved(at(7, month=7), at(29, 15)))
    )
    june = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    assert local_days(event, *june) == [
        "06-02 09:00",
        "06-09 09:00",
        "06-16 09:00",
        "06-23 09:00",
        "06-29 15:00",
    ]
    july = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC))
    assert local_days(event, *july) == ["07-03 09:00"]


def test_a_cancelled_override_removes_the_occurrence() -> None:
    cancelled = moved(at(9), at(9), status=Status.CANCELLED)
    event = replace(series(), overrides=(cancelled,))
    assert "06-09 09:00" not in local_days(event, *WINDOW)
    assert len(expand(event, *WINDOW)) == 5


def test_window_takes_occurrences_that_overlap_it() -> None:
    event = series()

    def utc(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 6, 9, hour, minute, tzinfo=UTC)

    # 9 June 09:00-10:00 Paris is 07:00-08:00 UTC.
    assert local_days(event, utc(6), utc(7)) == []
    assert local_days(event, utc(6), utc(7, 1)) == ["06-09 09:00"]
    assert local_days(event, utc(7, 59), utc(12)) == ["06-09 09:00"]
    assert local_days(event, utc(8), utc(12)) == []


def test_until_is_inclusive_and_open_series_stop_at_the_window() -> None:
    until = series("FREQ=WEEKLY;UNTIL=20260616T070000Z")
    assert local_days(until, *WINDOW) == ["06-02 09:00", "06-09 09:00", "06-16 09:00"]
    forever = series("FREQ=DAILY")
    assert len(expand(forever, *WINDOW)) == 29 + 31 + 31  # 2 June to 31 August


def test_monthly_last_weekday_in_vientiane() -> None:
    event = series(
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=4",
        start=datetime(2026, 6, 30, 14, 0, tzinfo=VIENTIANE),
        end=datetime(2026, 6, 30, 16, 0, tzinfo=VIENTIANE),
        time_zone="Asia/Vientiane",
    )
    window = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [f"{o.local_start():%Y-%m-%d %H:%M}" for o in expand(event, *window)] == [
        "2026-06-30 14:00",
        "2026-07-31 14:00",
        "2026-08-31 14:00",
        "2026-09-30 14:00",
    ]
    assert parse(produce([event])) == [event]


def test_a_single_event_is_one_occurrence() -> None:
    single = replace(series(), recurrence=None)
    (only,) = expand(single, *WINDOW)
    assert (only.start, only.end, only.recurrence_id) == (single.start, single.end, single.start)
    assert expand(single, datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)) == []


def test_expansion_round_trips_through_a_file() -> None:
    event = replace(
        series(recurrence=Recurrence("FREQ=WEEKLY;BYDAY=TU;COUNT=6", (at(23),))),
        overrides=(moved(at(16), at(17, 14)),),
    )
    (read,) = parse(produce([event]))
    assert expand(read, *WINDOW) == expand(event, *WINDOW)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ((datetime(2026, 6, 1), datetime(2026, 7, 1, tzinfo=UTC)), "aware"),
        ((datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)), "ends before"),
    ],
)
def test_bad_windows_are_refused(window: tuple[datetime, datetime], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand(series(), *window)


def test_too_many_occurrences_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 50"):
        expand(series("FREQ=DAILY"), *WINDOW, max_occurrences=50)


RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3;BYMONTH=2,3",
    "FREQ=DAILY;INTERVAL=2;BYDAY=MO,WE,SA",
    "FREQ=DAILY;BYMONTHDAY=1,15,-1",
    "FREQ=WEEKLY;INTERVAL=3",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH,SU;WKST=SU",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH,SU;WKST=MO",
    "FREQ=WEEKLY;BYMONTH=7,8;BYDAY=FR",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=SA,SU;BYSETPOS=1,3",
    "FREQ=YEARLY",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "FREQ=YEARLY;BYDAY=20MO",
    "FREQ=YEARLY;BYDAY=-1WE",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=6,12",
    "FREQ=YEARLY;BYMONTH=6,12;BYDAY=SA,SU;BYSETPOS=1,-1",
]


@pytest.mark.parametrize("rule", RULES)
def test_arithmetic_membership_agrees_with_dateutil(rule: str) -> None:
    """``rrules.generates`` (no search) and dateutil's expansion give the same starts."""
    from server.ical.recurrence import occurrences
    from server.ical.rrules import generates, normalize_rule

    rule = normalize_rule(rule)
    for first_day in (
        datetime(2026, 1, 1, 2, 30, tzinfo=PARIS),
        datetime(2027, 2, 13, 18, 0, tzinfo=VIENTIANE),
    ):
        zone = first_day.tzinfo
        assert isinstance(zone, ZoneInfo)
        limit = first_day + timedelta(days=4 * 366)
        expected = set(occurrences(rule, first_day, zone, limit))
        assert expected, rule
        got = set()
        day = first_day
        while day <= limit:
            instant = day.replace(fold=0).astimezone(UTC)
            if generates(rule, first_day, zone, instant):
                got.add(instant)
            day = datetime.combine(day.date() + timedelta(days=1), day.timetz())
        assert got == expected, rule


def test_series_at_a_time_that_falls_in_the_dst_gap() -> None:
    # Sundays at 02:30 Paris: on 29 March 2026 02:30 does not exist; RFC 5545 reads it with
    # the offset before the gap, 01:30 UTC (03:30 summer time).
    event = series("FREQ=WEEKLY;COUNT=6", start=at(22, 2, 3), end=at(22, 3, 3))
    event = replace(event, start=datetime(2026, 3, 22, 2, 30, tzinfo=PARIS))
    starts = [o.start for o in expand(event, *WINDOW_SPRING)]
    assert starts[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert starts[2] == datetime(2026, 4, 5, 0, 30, tzinfo=UTC)
    gap_day = moved(starts[1], datetime(2026, 3, 29, 10, 0, tzinfo=PARIS))
    with_override = replace(event, overrides=(gap_day,))
    assert parse(produce([with_override])) == [with_override]


WINDOW_SPRING = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


def test_occurrences_far_from_the_start_are_refused_as_overrides() -> None:
    event = series("FREQ=WEEKLY;BYDAY=TU")
    far = at(2) + timedelta(weeks=52 * 21)
    with pytest.raises(ValueError, match="more than 20 years"):
        replace(event, overrides=(moved(far, far + timedelta(days=1)),))
    beyond_count = at(2) + timedelta(weeks=6)
    with pytest.raises(ValueError, match="not an occurrence"):
        replace(series(), overrides=(moved(beyond_count, beyond_count),))
