"""Attendance and floor interventions from a scripted room event log (session 09:00–12:00)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from server.minutes.attendance import RoomEvent, attendance, interventions, speaking_time
from server.minutes.document import Interval, Minutes
from tests.minutes.fixtures import at, minutes

HALL, ATTAPEU, LATECOMER, ADMITTED_ONLY, NEVER = 1, 2, 5, 3, 4
START, END = at(9, 0), at(12, 0)
UID = "s-cooperation@concord"

EVENTS: list[RoomEvent] = [
    (at(8, 50), "lobby.arrived", HALL),
    (at(8, 50), "lobby.admitted", HALL),
    (at(8, 51), "site.connected", HALL),  # before the start: present from 09:00
    (at(9, 0), "room.locked", None),
    (at(9, 5), "lobby.arrived", ATTAPEU),
    (at(9, 9), "lobby.admitted", ATTAPEU),
    (at(9, 10), "site.connected", ATTAPEU),
    (at(9, 0), "lobby.admitted", ADMITTED_ONLY),  # admitted, media never connected
    (at(10, 0), "site.reconnecting", HALL),
    (at(10, 0, 30), "site.connected", HALL),  # back within a minute: no gap
    (at(10, 30), "site.reconnecting", ATTAPEU),
    (at(10, 45), "site.connected", ATTAPEU),  # back after 15 minutes: a gap
    (at(11, 30), "site.removed", ATTAPEU),
    (at(11, 58), "site.connected", LATECOMER),
    (at(12, 30), "site.left", HALL),
]


def test_attendance_with_a_reconnection_and_a_removal() -> None:
    rows = attendance(reversed(EVENTS), START, END, session_uid=UID, sites=[HALL, ATTAPEU, NEVER])
    assert [r.site_id for r in rows] == [HALL, ATTAPEU, ADMITTED_ONLY, NEVER, LATECOMER]
    site = {r.site_id: r for r in rows}

    hall = site[HALL]
    assert hall.intervals == (Interval(START, END),)
    assert (hall.minutes, hall.late, hall.left_early) == (180, False, False)

    attapeu = site[ATTAPEU]
    assert attapeu.intervals == (Interval(at(9, 10), at(10, 30)), Interval(at(10, 45), at(11, 30)))
    assert attapeu.minutes == 80 + 45
    assert attapeu.late and attapeu.left_early

    latecomer = site[LATECOMER]
    assert latecomer.intervals == (Interval(at(11, 58), END),)
    assert latecomer.seconds == 120 and latecomer.late and not latecomer.left_early

    for absent in (site[ADMITTED_ONLY], site[NEVER]):
        assert not absent.present and absent.minutes == 0
        assert not absent.late and not absent.left_early
    assert all(r.session_uid == UID for r in rows)


def test_without_bridging_a_reconnection_is_a_gap() -> None:
    rows = attendance(EVENTS, START, END, session_uid=UID, bridge=dt.timedelta(0))
    hall = next(r for r in rows if r.site_id == HALL)
    assert hall.intervals == (Interval(START, at(10, 0)), Interval(at(10, 0, 30), END))
    assert hall.seconds == 3 * 3600 - 30


def test_grace_and_naive_times_as_utc() -> None:
    naive = [(when.replace(tzinfo=None), kind, site) for when, kind, site in EVENTS]
    rows = attendance(naive, START, END, session_uid=UID, grace=dt.timedelta(minutes=15))
    attapeu = next(r for r in rows if r.site_id == ATTAPEU)
    assert not attapeu.late and attapeu.left_early  # 10 minutes late is within 15
    assert attapeu.intervals[0].start == at(9, 10)
    with pytest.raises(ValueError):
        attendance(EVENTS, END, START, session_uid=UID)


FLOOR: list[RoomEvent] = [
    (at(8, 58), "floor.granted", HALL),
    (at(9, 1), "floor.released", HALL),  # clipped to 09:00–09:01
    (at(9, 20), "floor.granted", ATTAPEU),
    (at(9, 25), "floor.released", ATTAPEU),  # "next speaker"
    (at(9, 25), "floor.granted", HALL),
    (at(9, 58), "floor.released", HALL),
    (at(9, 58), "floor.granted", HALL),
    (at(10, 0), "site.reconnecting", HALL),  # keeps the floor while reconnecting
    (at(10, 0, 30), "site.connected", HALL),
    (at(10, 2, 15), "floor.released", HALL),
    (at(11, 25), "floor.granted", ATTAPEU),
    (at(11, 30), "site.removed", ATTAPEU),  # removed while speaking
    (at(11, 59), "floor.granted", HALL),  # still speaking at the end
    (at(12, 10), "floor.released", HALL),
]


def test_interventions_and_their_durations() -> None:
    found = interventions(FLOOR, START, END, session_uid=UID)
    assert [(i.site_id, i.start, i.end, i.seconds) for i in found] == [
        (HALL, at(9, 0), at(9, 1), 60),
        (ATTAPEU, at(9, 20), at(9, 25), 300),
        (HALL, at(9, 25), at(9, 58), 33 * 60),
        (HALL, at(9, 58), at(10, 2, 15), 4 * 60 + 15),
        (ATTAPEU, at(11, 25), at(11, 30), 300),
        (HALL, at(11, 59), END, 60),
    ]
    assert speaking_time(found) == {HALL: 60 + 33 * 60 + 255 + 60, ATTAPEU: 600}


def test_a_grant_without_release_ends_at_the_next_grant() -> None:
    events: list[RoomEvent] = [
        (at(9, 10), "floor.granted", HALL),
        (at(9, 12), "floor.granted", ATTAPEU),
        (at(9, 13), "floor.released", HALL),  # not the holder: ignored
        (at(9, 14), "floor.released", ATTAPEU),
        (at(9, 20), "floor.granted", HALL),
        (at(9, 20), "floor.released", HALL),  # no length: left out
    ]
    found = interventions(events, START, END, session_uid=UID)
    assert [(i.site_id, i.seconds) for i in found] == [(HALL, 120), (ATTAPEU, 120)]


def test_attendance_and_interventions_go_into_the_minutes() -> None:
    m = replace(
        minutes(),
        attendance=attendance(EVENTS, START, END, session_uid=UID),
        interventions=interventions(FLOOR, START, END, session_uid=UID),
    )
    again = Minutes.from_json(m.to_json())
    assert again == m and again.digest() == m.digest()
    assert again.attendance[1].intervals[1] == Interval(at(10, 45), at(11, 30))


@pytest.mark.parametrize("closing", ["room.ended", "room.interrupted"])
def test_the_room_closing_ends_presence_and_the_floor(closing: str) -> None:
    events: list[RoomEvent] = [
        (at(9, 0), "site.connected", HALL),
        (at(9, 10), "floor.granted", HALL),
        (at(10, 0), closing, None),
    ]
    [row] = attendance(events, START, END, session_uid=UID)
    assert row.intervals == (Interval(at(9, 0), at(10, 0)),)
    [turn] = interventions(events, START, END, session_uid=UID)
    assert turn.end == at(10, 0)


def test_a_turn_goes_on_when_the_room_reopens_after_a_restart() -> None:
    """The floor holder's turn is cut by the interruption and goes on from the reopening."""
    events: list[RoomEvent] = [
        (at(9, 0), "site.connected", HALL),
        (at(9, 10), "floor.granted", HALL),
        (at(9, 20), "room.interrupted", None),
        (at(9, 21), "room.reopened", HALL),
        (at(9, 30), "floor.released", HALL),
    ]
    turns = interventions(events, START, END, session_uid=UID)
    assert [(t.start, t.end) for t in turns] == [(at(9, 10), at(9, 20)), (at(9, 21), at(9, 30))]
