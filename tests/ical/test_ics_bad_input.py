"""Broken and hostile ``.ics`` files: each is refused with an error naming line and property."""

from __future__ import annotations

import time

import pytest

from server.ical.ics import IcsError, parse

from .samples import EVENT, HEADER, event, ics, line_of


def refused(data: bytes, **limits: int) -> IcsError:
    with pytest.raises(IcsError) as caught:
        parse(data, **limits)
    return caught.value


def test_not_utf8_names_the_line_and_property() -> None:
    data = ics(event("SUMMARY:Réunion")).replace("é".encode(), "é".encode("latin-1"))
    error = refused(data)
    assert (error.line, error.property) == (line_of(data, "SUMMARY"), "SUMMARY")
    assert "UTF-8" in error.message


def test_declared_charset_other_than_utf8_is_refused() -> None:
    data = ics(event("SUMMARY;CHARSET=ISO-8859-1:Reunion"))
    error = refused(data)
    assert (error.line, error.property) == (line_of(data, "SUMMARY"), "SUMMARY")
    assert "CHARSET=ISO-8859-1" in error.message
    assert parse(ics(event("SUMMARY;CHARSET=utf-8:Réunion")))[0].summary == "Réunion"


def test_utf16_is_refused() -> None:
    error = refused(ics(EVENT).decode().encode("utf-16"))
    assert error.line == 1 and "UTF-16" in error.message


def _cases() -> list[tuple[str, bytes, str, str, str]]:
    """(id, data, prefix of the expected line, property, words of the message)."""
    return [
        ("missing DTSTART", ics(event(drop=("DTSTART",))), "BEGIN:VEVENT", "DTSTART", "missing"),
        ("missing SUMMARY", ics(event(drop=("SUMMARY",))), "BEGIN:VEVENT", "SUMMARY", "missing"),
        ("empty SUMMARY", ics(event("SUMMARY:")), "SUMMARY", "SUMMARY", "empty"),
        ("missing UID", ics(event(drop=("UID",))), "BEGIN:VEVENT", "UID", "missing"),
        (
            "DTEND before DTSTART",
            ics(event("DTEND;TZID=Europe/Paris:20260602T080000")),
            "DTEND",
            "DTEND",
            "not after DTSTART",
        ),
        (
            "unknown TZID",
            ics(event("DTSTART;TZID=Mars/Olympus_Mons:20260602T090000")),
            "DTSTART",
            "DTSTART",
            "'Mars/Olympus_Mons' is not an IANA time zone",
        ),
        (
            "TZID of a non-IANA VTIMEZONE",
            ics(
                [
                    "BEGIN:VTIMEZONE",
                    "TZID:Provincial Time",
                    "BEGIN:STANDARD",
                    "DTSTART:19700101T000000",
                    "TZOFFSETFROM:+0700",
                    "TZOFFSETTO:+0700",
                    "END:STANDARD",
                    "END:VTIMEZONE",
                ],
                event(
                    "DTSTART;TZID=Provincial Time:20260602T090000",
                    "DTEND;TZID=Provincial Time:20260602T100000",
                ),
            ),
            "DTSTART;TZID",
            "DTSTART",
            "defined only by a VTIMEZONE",
        ),
        (
            "floating time",
            ics(event("DTSTART:20260602T090000")),
            "DTSTART",
            "DTSTART",
            "floating time",
        ),
        (
            "DURATION instead of DTEND",
            ics(event("DURATION:PT1H", drop=("DTEND",))),
            "DURATION",
            "DURATION",
            "give the end of the session as DTEND",
        ),
        (
            "no end at all",
            ics(event(drop=("DTEND",))),
            "BEGIN:VEVENT",
            "DTEND",
            "DTEND is missing",
        ),
        (
            "all-day DATE",
            ics(event("DTSTART;VALUE=DATE:20260602", "DTEND;VALUE=DATE:20260603")),
            "DTSTART",
            "DTSTART",
            "all-day",
        ),
        (
            "BEGIN without END (truncated file)",
            ics(EVENT[:-1], footer=""),
            "BEGIN:VEVENT",
            "BEGIN:VEVENT",
            "never closed",
        ),
        (
            "END:VCALENDAR before END:VEVENT",
            ics(EVENT[:-1]),
            "END:VCALENDAR",
            "END:VCALENDAR",
            "does not close BEGIN:VEVENT of line 4",
        ),
        (
            "END that closes the wrong component",
            ics([*EVENT[:-1], "BEGIN:VALARM", "END:VEVENT"]),
            "END:VEVENT",
            "END:VEVENT",
            "does not close BEGIN:VALARM",
        ),
        (
            "nested too deep",
            ics(
                event("BEGIN:VALARM", "BEGIN:X-A", "BEGIN:X-B", "END:X-B", "END:X-A", "END:VALARM")
            ),
            "BEGIN:X-B",
            "BEGIN:X-B",
            "deeper than 4",
        ),
        (
            "a VEVENT inside a VEVENT",
            ics([*EVENT[:-1], *event(uid="inner@x")]),
            "BEGIN:VEVENT#1",
            "BEGIN:VEVENT",
            "inside VEVENT",
        ),
        (
            "bad RRULE value",
            ics(event("RRULE:FREQ=WEEKLY;BYDAY=XX")),
            "RRULE",
            "RRULE",
            "weekday",
        ),
        (
            "RRULE that never occurs",
            ics(event("RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")),
            "RRULE",
            "RRULE",
            "no day that exists",
        ),
        (
            "UNTIL in local time",
            ics(event("RRULE:FREQ=WEEKLY;UNTIL=20261231T090000")),
            "RRULE",
            "RRULE",
            "UTC",
        ),
        (
            "DTSTART not on its rule",
            ics(event("RRULE:FREQ=WEEKLY;BYDAY=WE")),
            "BEGIN:VEVENT",
            "VEVENT",
            "not an occurrence of the rule",
        ),
        ("RDATE", ics(event("RDATE:20260610T090000Z")), "RDATE", "RDATE", "not supported"),
        (
            "EXDATE as a date",
            ics(event("RRULE:FREQ=WEEKLY", "EXDATE;VALUE=DATE:20260609")),
            "EXDATE",
            "EXDATE",
            "all-day",
        ),
        (
            "duplicate DTSTART",
            ics([*EVENT[:4], "DTSTART;TZID=Europe/Paris:20260602T091500", *EVENT[4:]]),
            "DTSTART#1",
            "DTSTART",
            "appears twice",
        ),
        (
            "garbage line",
            ics(event("this is not iCalendar")),
            "this is",
            "THIS",
            "not an iCalendar content line",
        ),
        (
            "control character",
            ics(event("SUMMARY:Bell\x07")),
            "SUMMARY",
            "SUMMARY",
            "U+0007",
        ),
        (
            "ORGANIZER without mailto",
            ics(event("ORGANIZER:invalid:nomail")),
            "ORGANIZER",
            "ORGANIZER",
            "mailto:",
        ),
        (
            "unknown attendee ROLE",
            ics(event("ATTENDEE;ROLE=SPEAKER:mailto:a@example.org")),
            "ATTENDEE",
            "ATTENDEE",
            "SPEAKER",
        ),
        (
            "unknown STATUS",
            ics(event("STATUS:POSTPONED")),
            "STATUS",
            "STATUS",
            "POSTPONED",
        ),
        (
            "negative SEQUENCE",
            ics(event("SEQUENCE:-1")),
            "SEQUENCE",
            "SEQUENCE",
            "0 or more",
        ),
        (
            "METHOD:REPLY",
            ics(EVENT, header=[*HEADER, "METHOD:REPLY"]),
            "METHOD",
            "METHOD",
            "not supported",
        ),
        (
            "vCalendar 1.0",
            ics(EVENT, header=["BEGIN:VCALENDAR", "VERSION:1.0"]),
            "VERSION",
            "VERSION",
            "not iCalendar 2.0",
        ),
        (
            "the same UID twice",
            ics(EVENT, EVENT),
            "UID#1",
            "UID",
            "used twice",
        ),
        (
            "RECURRENCE-ID that is not an occurrence",
            ics(
                event("RRULE:FREQ=WEEKLY;COUNT=4"),
                event(
                    "RECURRENCE-ID;TZID=Europe/Paris:20260603T090000",
                    "DTSTART;TZID=Europe/Paris:20260603T140000",
                    "DTEND;TZID=Europe/Paris:20260603T150000",
                ),
            ),
            "RECURRENCE-ID",
            "RECURRENCE-ID",
            "not an occurrence",
        ),
        (
            "RANGE=THISANDFUTURE",
            ics(event("RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Paris:20260602T090000")),
            "RECURRENCE-ID",
            "RECURRENCE-ID",
            "THISANDFUTURE",
        ),
        (
            "content after END:VCALENDAR",
            ics(EVENT) + b"SUMMARY:stray\r\n",
            "SUMMARY:stray",
            "SUMMARY",
            "outside",
        ),
        (
            "two calendars",
            ics(EVENT) + ics(event(uid="second@x")),
            "BEGIN:VCALENDAR#1",
            "BEGIN:VCALENDAR",
            "only one VCALENDAR",
        ),
    ]


@pytest.mark.parametrize(
    ("data", "where", "prop", "words"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
def test_broken_input_names_line_and_property(
    data: bytes, where: str, prop: str, words: str
) -> None:
    """``where`` is the start of the expected line, ``#1`` for its second occurrence."""
    prefix, _, nth = where.partition("#")
    error = refused(data)
    assert error.property == prop, error
    assert error.line == line_of(data, prefix, int(nth or 0)), error
    assert words in error.message, error
    assert str(error).startswith(f"line {error.line}, {prop}: ")


def test_the_line_of_a_folded_property_is_its_first_line() -> None:
    data = ics(event("DTSTART;TZID=Mars/Olympus_Mons:\r\n 20260602T090000"))
    error = refused(data)
    assert (error.line, error.property) == (line_of(data, "DTSTART"), "DTSTART")


def test_huge_file_is_refused_before_reading() -> None:
    data = ics(*(event(uid=f"s{n}@x") for n in range(50)))
    error = refused(data, max_bytes=1000)
    assert (error.line, error.property) == (None, None)
    assert "limit is 1,000" in error.message


def test_too_many_events_names_the_first_one_over() -> None:
    data = ics(*(event(uid=f"s{n}@x") for n in range(4)))
    error = refused(data, max_events=3)
    assert (error.line, error.property) == (line_of(data, "BEGIN:VEVENT", 3), "VEVENT")


def test_deep_nesting_limit_is_a_parameter() -> None:
    data = ics(
        event("BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "DESCRIPTION:x", "END:VALARM")
    )
    assert parse(data)[0].alarms == (5,)
    error = refused(data, max_depth=2)
    assert (error.line, error.property) == (line_of(data, "BEGIN:VALARM"), "BEGIN:VALARM")


def test_deeply_nested_hostile_file_is_refused_quickly() -> None:
    depth = 100_000
    data = ("BEGIN:VCALENDAR\r\n" + "BEGIN:X\r\n" * depth).encode()
    started = time.perf_counter()
    error = refused(data)
    assert time.perf_counter() - started < 2
    assert error.line == 5 and "deeper than 4" in error.message


def test_rule_that_never_occurs_is_refused_quickly() -> None:
    started = time.perf_counter()
    refused(ics(event("RRULE:FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31")))
    assert time.perf_counter() - started < 1


def test_nothing_partial_one_bad_event_refuses_the_file() -> None:
    good = [event(uid=f"good{n}@x") for n in range(3)]
    data = ics(*good, event("DTEND;TZID=Europe/Paris:20260602T080000", uid="bad@x"))
    error = refused(data)
    assert error.property == "DTEND"
    assert len(parse(ics(*good))) == 3


def _series_with_far_override(n: int, rule: str) -> list[list[str]]:
    """Series ``n`` (from 2 June 2026, 09:00 Paris) and an override of its 2045 occurrence."""
    uid = f"series-{n}@x"
    return [
        event(f"RRULE:{rule}", uid=uid),
        event(
            "RECURRENCE-ID;TZID=Europe/Paris:20450602T090000",
            "DTSTART;TZID=Europe/Paris:20450602T140000",
            "DTEND;TZID=Europe/Paris:20450602T150000",
            uid=uid,
        ),
    ]


def test_many_valid_series_with_far_overrides_are_read_quickly() -> None:
    """RECURRENCE-IDs are checked without dateutil searching from each series' start."""
    rules = ["FREQ=DAILY", "FREQ=MONTHLY;BYMONTH=6;INTERVAL=12", "FREQ=YEARLY;BYMONTH=6"]
    parts = [p for n in range(1000) for p in _series_with_far_override(n, rules[n % 3])]
    data = ics(*parts)
    started = time.perf_counter()
    events = parse(data)
    assert time.perf_counter() - started < 20  # about 2 s here; many minutes if searched
    assert len(events) == 1000 and all(len(e.overrides) == 1 for e in events)


def test_counted_series_with_overrides_are_limited() -> None:
    parts = [p for n in range(101) for p in _series_with_far_override(n, "FREQ=YEARLY;COUNT=30")]
    data = ics(*parts)
    error = refused(data)
    assert (error.line, error.property) == (line_of(data, "RRULE", 100), "RRULE")
    assert "more than 100 series" in error.message
    assert len(parse(ics(*parts[:200]))) == 100
