"""A second, independent reading of the ``.ics`` files Concord produces.

``vobject`` reads the file's structure and raw values (``transform=False``: its global
time-zone registry would otherwise mix up VTIMEZONEs of different files) and ``dateutil``'s
``tzical`` reads the VTIMEZONEs of the file into tzinfos (vobject's raw mode keeps only the
first value of a multi-valued RDATE, which icalendar writes in VTIMEZONEs spanning several
years). So DTSTART instants here come from the file's own VTIMEZONE definitions, not from
icalendar and not from zoneinfo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import vobject
from dateutil.tz import tzical

from server.ical.ics import CalendarEvent, calendar


@dataclass(frozen=True)
class ReadEvent:
    uid: str
    start: datetime  # UTC
    end: datetime  # UTC
    recurrence_id: datetime | None  # UTC
    status: str | None
    sequence: int | None


@dataclass(frozen=True)
class ReadCalendar:
    method: str | None
    zones: dict[str, tzinfo]
    events: list[ReadEvent]


def read(data: bytes) -> ReadCalendar:
    """Read ``data`` with vobject; every TZID used must have a VTIMEZONE in the file."""
    text = data.decode("utf-8")
    cal = vobject.readOne(text, transform=False, ignoreUnreadable=False)
    assert cal.name == "VCALENDAR"
    zones: dict[str, tzinfo] = {}
    if "vtimezone" in cal.contents:
        timezones = tzical(io.StringIO(text))
        for key in timezones.keys():
            zone = timezones.get(key)
            assert zone is not None  # a key tzical listed itself
            zones[key] = zone
        assert sorted(zones) == sorted(c.tzid.value for c in cal.contents["vtimezone"])
    events = []
    for vevent in cal.contents.get("vevent", []):
        rid = vevent.contents.get("recurrence-id")
        status = vevent.contents.get("status")
        sequence = vevent.contents.get("sequence")
        events.append(
            ReadEvent(
                uid=vevent.uid.value,
                start=instant(vevent.dtstart, zones),
                end=instant(vevent.dtend, zones),
                recurrence_id=instant(rid[0], zones) if rid else None,
                status=status[0].value if status else None,
                sequence=int(sequence[0].value) if sequence else None,
            )
        )
    method = cal.contents.get("method")
    return ReadCalendar(method[0].value if method else None, zones, events)


def instant(line: vobject.base.ContentLine, zones: dict[str, tzinfo]) -> datetime:
    """The UTC instant of a raw DATE-TIME content line, read with the file's VTIMEZONEs."""
    value = line.value
    tzids = line.params.get("TZID")
    if value.endswith("Z"):
        assert not tzids, f"{line.name} has both Z and TZID"
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert tzids, f"{line.name}:{value} is a floating time"
    assert tzids[0] in zones, f"TZID {tzids[0]} has no VTIMEZONE in the file"
    local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zones[tzids[0]])
    return local.astimezone(UTC)


def produce(events: list[CalendarEvent], **options: Any) -> bytes:
    """``calendar(events, **options)``, checked by the independent reader.

    Every VEVENT written (series, then its overrides) must be read back with the same UID,
    DTSTART and DTEND instants, RECURRENCE-ID and SEQUENCE, the METHOD as asked, and a
    VTIMEZONE for every TZID.
    """
    data = calendar(events, **options)
    read_back = read(data)
    assert read_back.method == options.get("method")
    written = [component for event in events for component in (event, *event.overrides)]
    assert [e.uid for e in read_back.events] == [e.uid for e in written]
    for got, want in zip(read_back.events, written, strict=True):
        assert (got.start, got.end) == (want.start, want.end), want.uid
        assert got.recurrence_id == want.recurrence_id
        assert got.sequence == want.sequence
    return data
