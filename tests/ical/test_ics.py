"""Writing iCalendar: round trip, DST edges, VTIMEZONE offsets, iTIP sequencing.

Every calendar produced here goes through ``produce``, which reads it again with an
independent parser (vobject + dateutil's tzical) and checks UIDs, instants and METHOD.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Timezone

from server.ical.ics import (
    Attendee,
    AttendeeRole,
    CalendarEvent,
    PartStat,
    Person,
    Recurrence,
    Status,
    calendar,
    expand,
    parse,
    parse_calendar,
)

from .independent import produce, read

PARIS = ZoneInfo("Europe/Paris")
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
VIENTIANE = ZoneInfo("Asia/Vientiane")
NEW_YORK = ZoneInfo("America/New_York")
STAMP = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ORGANIZER = Person("Sở Ngoại vụ", "organiser@concord.example")
ATTENDEES = (
    Attendee(
        'Nguyễn Văn A, "Chair"; PM', "chair@example.vn", AttendeeRole.CHAIR, PartStat.ACCEPTED
    ),
    Attendee("ສົມສັກ ພົມມະຈັນ", "delegate@example.la", rsvp=True),
    Attendee("Observer", "observer@example.org", AttendeeRole.OPT_PARTICIPANT, PartStat.TENTATIVE),
    Attendee("Room bot", "room@example.org", AttendeeRole.NON_PARTICIPANT),
)


def session(uid: str, start: datetime, minutes: int = 90, **changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": uid,
        "summary": "Ký kết biên bản ghi nhớ",
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "time_zone": str(start.tzinfo),
        "organizer": ORGANIZER,
        "attendees": ATTENDEES,
        "dtstamp": STAMP,
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def weekly_series() -> CalendarEvent:
    start = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    series = session(
        "weekly@concord.example",
        start,
        60,
        summary="Weekly coordination",
        recurrence=Recurrence(
            "FREQ=WEEKLY;BYDAY=TU;COUNT=12", (datetime(2026, 3, 24, 9, 0, tzinfo=PARIS),)
        ),
        alarms=(15, 1440),
    )
    moved = session(
        "weekly@concord.example",
        datetime(2026, 4, 8, 14, 0, tzinfo=PARIS),
        60,
        summary="Weekly coordination (moved to Wednesday)",
        recurrence_id=datetime(2026, 4, 7, 9, 0, tzinfo=PARIS),
        sequence=1,
    )
    return replace(series, overrides=(moved,))


def test_round_trip_gives_equal_events() -> None:
    events = [
        session(
            "opening@concord.example",
            datetime(2026, 6, 2, 8, 30, tzinfo=HANOI),
            description="Agenda:\n1. Opening; welcome, remarks\n2. Signing \\ exchange",
            location="Hội trường A, Hà Nội",
            url="https://concord.example/join/abc?site=7&lang=vi",
            alarms=(10, 60),
            sequence=3,
            last_modified=datetime(2026, 5, 1, 12, 0, 5, tzinfo=UTC),
        ),
        session("vientiane@concord.example", datetime(2026, 6, 2, 8, 30, tzinfo=VIENTIANE)),
        session("donor@concord.example", datetime(2026, 6, 2, 9, 0, tzinfo=PARIS), 45),
        session("ny@concord.example", datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK), 30),
        session(
            "utc@concord.example",
            datetime(2026, 6, 3, 7, 0, tzinfo=UTC),
            status=Status.TENTATIVE,
            organizer=None,
            attendees=(),
        ),
        weekly_series(),
    ]
    data = produce(events, name="Hội nghị tổng kết viện trợ")
    assert parse(data) == events
    parsed = parse_calendar(data)
    assert parsed.method is None
    assert parsed.name == "Hội nghị tổng kết viện trợ"
    assert parsed.events[1].time_zone == "Asia/Vientiane"


def test_written_as_local_time_with_tzid_and_one_vtimezone_per_zone() -> None:
    data = produce(
        [
            session("a@x", datetime(2026, 6, 2, 8, 30, tzinfo=HANOI)),
            session("b@x", datetime(2026, 6, 2, 8, 30, tzinfo=VIENTIANE)),
            session("c@x", datetime(2026, 6, 2, 9, 0, tzinfo=PARIS)),
            session("d@x", datetime(2026, 6, 2, 10, 0, tzinfo=PARIS)),
        ]
    )
    text = data.decode()
    assert "DTSTART;TZID=Asia/Ho_Chi_Minh:20260602T083000\r\n" in text
    assert "DTSTART;TZID=Asia/Vientiane:20260602T083000\r\n" in text
    assert "DTSTART;TZID=Europe/Paris:20260602T090000\r\n" in text
    assert text.count("BEGIN:VTIMEZONE") == 3
    assert set(read(data).zones) == {"Asia/Ho_Chi_Minh", "Asia/Vientiane", "Europe/Paris"}
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    assert max(len(line.encode()) for line in text.split("\r\n")) <= 75


def test_dst_last_sunday_of_march_and_october_in_paris() -> None:
    before = session("sat-mar@x", datetime(2026, 3, 28, 9, 0, tzinfo=PARIS))
    spring = session("sun-mar@x", datetime(2026, 3, 29, 9, 0, tzinfo=PARIS))
    autumn = session("sun-oct@x", datetime(2026, 10, 25, 9, 0, tzinfo=PARIS))
    # Across the change itself: 01:30 CET to 03:30 CEST is one hour.
    across = session("across@x", datetime(2026, 3, 29, 1, 30, tzinfo=PARIS), 60)
    events = [before, spring, autumn, across]
    data = produce(events)
    starts = {e.uid: e.start for e in read(data).events}
    assert starts["sat-mar@x"] == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert starts["sun-mar@x"] == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert starts["sun-oct@x"] == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    text = data.decode()
    assert "DTSTART;TZID=Europe/Paris:20260329T013000\r\n" in text
    assert "DTEND;TZID=Europe/Paris:20260329T033000\r\n" in text
    assert parse(data) == events


def test_the_repeated_hour_at_the_end_of_dst_keeps_its_instant_and_zone() -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second pass
    events = [
        session("first@x", first, 30, time_zone="Europe/Paris"),
        session("second@x", second, 30, time_zone="Europe/Paris"),
    ]
    data = produce(events)
    text = data.decode()
    assert "DTSTART;TZID=Europe/Paris:20261025T023000\r\n" in text
    assert "DTSTART;X-CONCORD-TZID=Europe/Paris:20261025T013000Z\r\n" in text
    assert parse(data) == events


def test_weekly_series_stays_at_0900_local_while_utc_moves() -> None:
    series = session(
        "weekly@x",
        datetime(2026, 3, 17, 9, 0, tzinfo=PARIS),
        60,
        recurrence=Recurrence("FREQ=WEEKLY;BYDAY=TU;UNTIL=20261110T235959Z"),
    )
    occurrences = expand(series, datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert len(occurrences) == 35
    assert {o.local_start().time() for o in occurrences} == {datetime(2026, 1, 1, 9).time()}
    utc_hours = [(o.start.date().isoformat(), o.start.hour) for o in occurrences]
    assert utc_hours[:3] == [("2026-03-17", 8), ("2026-03-24", 8), ("2026-03-31", 7)]
    assert ("2026-10-20", 7) in utc_hours and ("2026-10-27", 8) in utc_hours
    # A reader of the file expands the same rule from the same wall time and VTIMEZONE.
    data = produce([series])
    zone = read(data).zones["Europe/Paris"]
    for occurrence in occurrences:
        wall = occurrence.local_start().replace(tzinfo=zone)
        assert wall.astimezone(UTC) == occurrence.start
    assert parse(data) == [series]


def test_new_york_and_paris_change_on_different_weekends() -> None:
    ny = session(
        "ny-weekly@x",
        datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK),
        recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"),
    )
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert [o.start.hour for o in expand(ny, *window)] == [14, 13, 13, 13]
    assert parse(produce([ny])) == [ny]


@pytest.mark.parametrize(
    "zone_name", ["Asia/Ho_Chi_Minh", "Asia/Vientiane", "Europe/Paris", "America/New_York"]
)
def test_vtimezone_offsets_match_zoneinfo(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    series = CalendarEvent(
        uid=f"{zone_name}@x",
        summary="Monthly review",
        start=datetime(2026, 1, 15, 10, 0, tzinfo=zone),
        end=datetime(2026, 1, 15, 11, 0, tzinfo=zone),
        time_zone=zone_name,
        recurrence=Recurrence("FREQ=MONTHLY;COUNT=24"),
    )
    data = produce([series], stamp=STAMP)
    independent = read(data).zones[zone_name]
    vtimezone = next(c for c in Calendar.from_ical(data).walk("VTIMEZONE"))
    assert isinstance(vtimezone, Timezone)
    by_icalendar = vtimezone.to_tz()
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    while instant < datetime(2028, 1, 1, tzinfo=UTC):  # the series' whole span, every 3 hours
        expected = instant.astimezone(zone).utcoffset()
        assert instant.astimezone(independent).utcoffset() == expected, instant
        assert instant.astimezone(by_icalendar).utcoffset() == expected, instant
        instant += timedelta(hours=3)


def test_vtimezone_covers_a_series_beyond_its_first_year() -> None:
    series = session(
        "long@x",
        datetime(2026, 11, 3, 9, 0, tzinfo=PARIS),
        recurrence=Recurrence("FREQ=MONTHLY;BYDAY=1TU;COUNT=20"),
    )
    data = produce([series])
    zone = read(data).zones["Europe/Paris"]
    occurrences = expand(series, series.start, series.start + timedelta(days=800))
    assert len(occurrences) == 20
    assert occurrences[-1].start.year == 2028
    for occurrence in occurrences:
        assert occurrence.local_start().hour == 9
        wall = occurrence.local_start().replace(tzinfo=zone)
        assert wall.astimezone(UTC) == occurrence.start


def test_request_update_cancel_sequencing() -> None:
    invited = session("signing@concord.example", datetime(2026, 6, 2, 9, 0, tzinfo=HANOI))
    request = produce([invited], method="REQUEST")
    first = parse_calendar(request)
    assert first.method == "REQUEST"
    assert [(e.uid, e.sequence) for e in first.events] == [("signing@concord.example", 0)]

    moved = replace(
        invited,
        start=invited.start + timedelta(hours=1),
        end=invited.end + timedelta(hours=1),
        sequence=1,
    )
    update = produce([moved], method="REQUEST")
    (updated,) = parse(update)
    assert (updated.uid, updated.sequence) == (invited.uid, 1)
    assert updated.start == datetime(2026, 6, 2, 3, 0, tzinfo=UTC)

    cancel = produce([replace(moved, sequence=2, alarms=(15,))], method="CANCEL")
    read_back = read(cancel)
    assert read_back.method == "CANCEL"
    assert [(e.uid, e.sequence, e.status) for e in read_back.events] == [
        ("signing@concord.example", 2, "CANCELLED")
    ]
    assert b"BEGIN:VALARM" not in cancel  # RFC 5546: no VALARM in CANCEL
    cancelled = parse_calendar(cancel)
    assert cancelled.method == "CANCEL"
    assert cancelled.events[0].status == Status.CANCELLED
    assert cancelled.events[0].attendees == ATTENDEES  # all attendees when all is cancelled


def test_series_request_carries_its_overrides_and_one_occurrence_can_be_cancelled() -> None:
    series = weekly_series()
    request = produce([series], method="REQUEST")
    assert request.count(b"UID:weekly@concord.example") == 2
    assert parse(request) == [series]
    occurrence = session(
        series.uid,
        datetime(2026, 4, 14, 9, 0, tzinfo=PARIS),
        60,
        summary=series.summary,
        recurrence_id=datetime(2026, 4, 14, 9, 0, tzinfo=PARIS),
        sequence=1,
    )
    cancel = produce([occurrence], method="CANCEL")
    assert b"RECURRENCE-ID;TZID=Europe/Paris:20260414T090000\r\n" in cancel
    assert parse(cancel)[0].recurrence_id == datetime(2026, 4, 14, 7, 0, tzinfo=UTC)


def test_publish_leaves_attendees_out() -> None:
    event = session("pub@x", datetime(2026, 6, 2, 9, 0, tzinfo=PARIS))
    data = produce([event, session("pub2@x", event.start)], method="PUBLISH")
    assert b"ATTENDEE" not in data
    assert parse(data)[0] == replace(event, attendees=())


@pytest.mark.parametrize(
    ("method", "events", "message"),
    [
        ("REQUEST", lambda e: [e, replace(e, uid="other@x")], "one UID"),
        ("CANCEL", lambda e: [e, replace(e, uid="other@x", sequence=1)], "one UID"),
        ("REQUEST", lambda e: [replace(e, attendees=())], "ATTENDEE"),
        ("REQUEST", lambda e: [replace(e, organizer=None)], "ORGANIZER"),
        ("PUBLISH", lambda e: [replace(e, organizer=None)], "ORGANIZER"),
        ("REQUEST", lambda e: [replace(e, status=Status.CANCELLED)], "CANCEL"),
        ("CANCEL", lambda e: [e], "SEQUENCE"),
        ("REQUEST", lambda e: [], "at least one"),
    ],
)
def test_itip_rules_are_enforced(method: str, events: object, message: str) -> None:
    event = session("rule@x", datetime(2026, 6, 2, 9, 0, tzinfo=PARIS))
    with pytest.raises(ValueError, match=message):
        calendar(events(event), method=method)  # type: ignore[operator, arg-type]


def test_stamp_and_feed_properties() -> None:
    event = session("feed@x", datetime(2026, 6, 2, 9, 0, tzinfo=PARIS), dtstamp=None)
    data = produce(
        [event], stamp=datetime(2026, 2, 1, 12, 0, tzinfo=UTC), refresh_interval=timedelta(hours=1)
    )
    assert b"DTSTAMP:20260201T120000Z\r\n" in data
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in data
    assert b"PRODID:-//Concord//Concord conference scheduling//EN\r\n" in data
    now = parse(produce([event]))[0].dtstamp
    assert now is not None and abs(now - datetime.now(UTC)) < timedelta(minutes=1)


def test_feed_of_a_thousand_sessions_is_read_back_whole() -> None:
    base = datetime(2026, 1, 5, 8, 0, tzinfo=HANOI)
    events = [
        session(f"s{n}@concord.example", base + timedelta(days=n // 4, hours=2 * (n % 4)))
        for n in range(1000)
    ]
    data = produce(events, name="Feed")
    assert parse(data) == events


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": datetime(2026, 6, 2, 9, 0)}, "aware"),
        ({"time_zone": "Europe/Pariss"}, "IANA"),
        ({"time_zone": "Romance Standard Time"}, "IANA"),
        ({"end": datetime(2026, 6, 2, 6, 0, tzinfo=UTC)}, "not after the start"),
        ({"summary": "  "}, "SUMMARY"),
        ({"uid": ""}, "UID"),
        ({"sequence": -1}, "SEQUENCE"),
        ({"alarms": (-5,)}, "minutes"),
        ({"attendees": (ATTENDEES[0], ATTENDEES[0])}, "twice"),
        ({"recurrence": Recurrence("FREQ=WEEKLY;BYDAY=WE")}, "not an occurrence of the rule"),
    ],
)
def test_invalid_events_are_refused(changes: dict[str, object], message: str) -> None:
    valid = session("bad@x", datetime(2026, 6, 2, 9, 0, tzinfo=PARIS))
    with pytest.raises(ValueError, match=message):
        replace(valid, **changes)  # type: ignore[arg-type]


def test_people_need_an_email_address_and_known_roles() -> None:
    with pytest.raises(ValueError, match="e-mail"):
        Person("x", "not an address")
    with pytest.raises(ValueError, match="e-mail"):
        Attendee("x", "a@b; ROLE=CHAIR")
    with pytest.raises(ValueError, match="SPEAKER"):
        Attendee("x", "a@example.org", role="SPEAKER")  # type: ignore[arg-type]
    assert Person("x", "MAILTO:x@example.org").email == "x@example.org"


def test_overrides_must_be_occurrences_of_their_series() -> None:
    series = weekly_series()
    wrong_day = replace(series.overrides[0], recurrence_id=datetime(2026, 4, 8, 9, 0, tzinfo=PARIS))
    with pytest.raises(ValueError, match="not an occurrence"):
        replace(series, overrides=(wrong_day,))
    excluded = replace(series.overrides[0], recurrence_id=datetime(2026, 3, 24, 9, 0, tzinfo=PARIS))
    with pytest.raises(ValueError, match="excluded"):
        replace(series, overrides=(excluded,))
    with pytest.raises(ValueError, match="UID"):
        replace(series, overrides=(replace(series.overrides[0], uid="other@x"),))
    with pytest.raises(ValueError, match="only a recurring event"):
        replace(series, recurrence=None)


def test_a_series_cannot_start_in_the_repeated_hour() -> None:
    with pytest.raises(ValueError, match="repeated hour"):
        session(
            "r@x",
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
            time_zone="Europe/Paris",
            recurrence=Recurrence("FREQ=YEARLY"),
        )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("BYDAY=TU", "no FREQ"),
        ("FREQ=HOURLY", "not supported"),
        ("FREQ=WEEKLY;BYHOUR=9,14", "BYHOUR is not supported"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20261231T000000Z", "both COUNT and UNTIL"),
        ("FREQ=WEEKLY;UNTIL=20261231", "UTC date-time"),
        ("FREQ=WEEKLY;UNTIL=20261231T000000", "UTC date-time"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT"),
        ("FREQ=WEEKLY;COUNT=100000", "COUNT"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "WEEKLY"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "no day that exists"),
        ("FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=-31", "no day that exists"),
        ("FREQ=MONTHLY;BYMONTH=13", "BYMONTH"),
        ("FREQ=WEEKLY;BYDAY=2TU", "MONTHLY or YEARLY"),
        ("FREQ=MONTHLY;BYDAY=6TU", "between 1 and 5"),
        ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "BYSETPOS"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1", "BYSETPOS"),
        ("FREQ=WEEKLY;BYDAY=XX", "not valid"),
        ("FREQ=SOMETIMES", "not valid"),
    ],
)
def test_recurrence_rules_outside_the_supported_subset_are_refused(rule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Recurrence(rule)


def test_recurrence_rule_is_made_canonical() -> None:
    assert Recurrence("RRULE:byday=TU;freq=weekly;count=3").rule == "FREQ=WEEKLY;COUNT=3;BYDAY=TU"
    assert Recurrence("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1").rule.startswith(
        "FREQ=MONTHLY"
    )
