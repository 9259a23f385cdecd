"""Reading ``.ics`` files: what is accepted, and how series and overrides come back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.ical.ics import AttendeeRole, PartStat, parse, parse_calendar

from .samples import EVENT, HEADER, event, ics


def test_a_plain_file_is_read() -> None:
    (read,) = parse(ics(EVENT))
    assert read.uid == "session-1@example.org"
    assert read.start == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    assert read.end == datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
    assert read.time_zone == "Europe/Paris"
    assert read.sequence == 0 and read.status == "CONFIRMED"


def test_outlook_and_vendor_tzids_are_mapped_to_iana() -> None:
    outlook = event(
        "DTSTART;TZID=SE Asia Standard Time:20260602T083000",
        "DTEND;TZID=SE Asia Standard Time:20260602T100000",
    )
    mozilla = event(
        "DTSTART;TZID=/mozilla.org/20050126_1/Europe/Paris:20260602T090000",
        "DTEND;TZID=/mozilla.org/20050126_1/Europe/Paris:20260602T100000",
        uid="moz@x",
    )
    vtimezone = [
        "BEGIN:VTIMEZONE",
        "TZID:SE Asia Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        "TZOFFSETFROM:+0700",
        "TZOFFSETTO:+0700",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    first, second = parse(ics(vtimezone, outlook, mozilla))
    assert (first.time_zone, first.start) == (
        "Asia/Bangkok",
        datetime(2026, 6, 2, 1, 30, tzinfo=UTC),
    )
    assert (second.time_zone, second.start) == (
        "Europe/Paris",
        datetime(2026, 6, 2, 7, 0, tzinfo=UTC),
    )


def test_folded_lines_bom_lf_endings_and_unknown_components_are_accepted() -> None:
    long_summary = "SUMMARY:" + "Hội nghị trực tuyến quốc tế " * 6
    folded = long_summary[:60] + "\r\n " + long_summary[60:]
    data = ics(event(folded), ["BEGIN:VTODO", "UID:todo@x", "END:VTODO"])
    (read,) = parse(b"\xef\xbb\xbf" + data.replace(b"\r\n", b"\n").replace(b"\n ", b"\n\t"))
    assert read.summary == long_summary[len("SUMMARY:") :]


def test_attendees_alarms_and_method_are_read() -> None:
    data = ics(
        event(
            "ORGANIZER;CN=Org:mailto:org@example.org",
            'ATTENDEE;CN="Lê, Thị B";ROLE=CHAIR;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:b@example.vn',
            "ATTENDEE:MAILTO:c@example.la",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:Reminder",
            "TRIGGER:-P1DT30M",
            "END:VALARM",
            "BEGIN:VALARM",
            "ACTION:AUDIO",
            "TRIGGER;VALUE=DATE-TIME:19760401T005545Z",
            "END:VALARM",
        ),
        header=[*HEADER, "METHOD:REQUEST", "X-WR-CALNAME:Briefings"],
    )
    parsed = parse_calendar(data)
    assert (parsed.method, parsed.name) == ("REQUEST", "Briefings")
    (read,) = parsed.events
    assert read.organizer is not None and read.organizer.email == "org@example.org"
    chair, other = read.attendees
    assert (chair.name, chair.role, chair.partstat, chair.rsvp) == (
        "Lê, Thị B",
        AttendeeRole.CHAIR,
        PartStat.ACCEPTED,
        True,
    )
    assert (other.email, other.role, other.partstat, other.rsvp) == (
        "c@example.la",
        AttendeeRole.REQ_PARTICIPANT,
        PartStat.NEEDS_ACTION,
        False,
    )
    assert read.alarms == (1470,)  # the absolute (Apple "none") alarm is left out


def test_series_with_exdate_and_override_is_grouped() -> None:
    data = ics(
        event("RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE;TZID=Europe/Paris:20260609T090000"),
        event(
            "RECURRENCE-ID;TZID=Europe/Paris:20260616T090000",
            "DTSTART;TZID=Europe/Paris:20260617T140000",
            "DTEND;TZID=Europe/Paris:20260617T153000",
            "SEQUENCE:1",
        ),
    )
    (series,) = parse(data)
    assert series.recurrence is not None
    assert series.recurrence.rule == "FREQ=WEEKLY;COUNT=4"
    assert series.recurrence.exdates == (datetime(2026, 6, 9, 7, 0, tzinfo=UTC),)
    (moved,) = series.overrides
    assert moved.recurrence_id == datetime(2026, 6, 16, 7, 0, tzinfo=UTC)
    assert moved.start == datetime(2026, 6, 17, 12, 0, tzinfo=UTC)


def test_an_override_without_its_series_is_returned_alone() -> None:
    data = ics(event("RECURRENCE-ID;TZID=Europe/Paris:20260602T090000", "STATUS:CANCELLED"))
    (alone,) = parse(data)
    assert alone.recurrence_id == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    assert alone.status == "CANCELLED"


def test_parse_takes_bytes() -> None:
    with pytest.raises(TypeError):
        parse(ics(EVENT).decode())  # type: ignore[arg-type]
