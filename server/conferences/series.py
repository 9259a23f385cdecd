"""Sessions as calendar events: a series (RRULE, EXDATEs, moved occurrences) is checked and
expanded by ``server.ical`` so that what Concord books is what calendars will show.

A series must end inside its conference: its rule needs COUNT or UNTIL, and its last
occurrence must end by the conference's end. That bounds every series, so its occurrences
can all be stored (``bookings``) and the conflict check stays one indexed query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from server.conferences.inputs import SessionCreate, SessionUpdate
from server.conferences.timing import field_error, from_iso_list, iso_list, to_utc
from server.errors import InvalidInput
from server.i18n_strings import N_
from server.ical.ics import CalendarEvent, Recurrence, expand
from server.ical.recurrence import is_occurrence, series_last_start
from server.ical.rrules import RuleError, rule_of
from server.models import AgendaSession, Conference, SessionStatus

#: The most occurrences one series may have (a weekly meeting for about ten years).
MAX_OCCURRENCES = 520


@dataclass(frozen=True)
class SessionOccurrence:
    """One concrete occurrence: ``row`` is the session whose details apply (the series, or
    the moved occurrence's own row), ``recurrence_id`` the start the rule gave it."""

    row: AgendaSession
    series: AgendaSession
    recurrence_id: dt.datetime
    start: dt.datetime
    end: dt.datetime


def event_of(series: AgendaSession, overrides: list[AgendaSession]) -> CalendarEvent:
    """The calendar event of a session (with its moved occurrences if it is a series)."""
    recurrence = None
    if series.rrule:
        recurrence = Recurrence(series.rrule, tuple(from_iso_list(series.exdates)))
    return CalendarEvent(
        uid=series.uid,
        summary=series.title,
        start=series.starts_at,
        end=series.ends_at,
        time_zone=series.time_zone,
        sequence=series.sequence,
        recurrence=recurrence,
        overrides=tuple(
            CalendarEvent(
                uid=series.uid,
                summary=o.title,
                start=o.starts_at,
                end=o.ends_at,
                time_zone=o.time_zone,
                sequence=o.sequence,
                recurrence_id=o.recurrence_id,
            )
            for o in overrides
            if o.status != SessionStatus.CANCELLED
        )
        if recurrence
        else (),
    )


def recurrence_refused(exc: ValueError) -> InvalidInput:
    """The 422 for a rule the calendar layer refused, in the reader's words when it can."""
    if isinstance(exc, RuleError):
        return field_error("rrule", exc.template, "bad_recurrence", **exc.params)
    return field_error(
        "rrule",
        N_("this repetition cannot be used: %(reason)s"),
        "bad_recurrence",
        reason=str(exc),
    )


def check_series(
    conference: Conference, series: AgendaSession, overrides: list[AgendaSession]
) -> None:
    """Refuse (422, naming the field) a rule or exception the calendar layer would not accept,
    or a series that runs past its conference."""
    try:
        event = event_of(series, overrides)
    except ValueError as exc:
        raise recurrence_refused(exc) from None
    if event.recurrence is None:
        return
    rule = rule_of(event.recurrence.rule)
    if rule.count is None and rule.until is None:
        raise field_error(
            "rrule",
            N_("a series needs COUNT or UNTIL: it must end by the end of its conference"),
            "open_ended_series",
        )
    zone = ZoneInfo(series.time_zone)
    last_start = series_last_start(event.recurrence.rule, series.starts_at, zone)
    if last_start + (series.ends_at - series.starts_at) > conference.ends_at:
        raise field_error(
            "rrule",
            N_("the series runs until %(last)s, after the end of the conference (%(end)s)"),
            "outside_conference",
            last=f"{last_start.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            end=_local(conference.ends_at, conference),
        )
    for index, exdate in enumerate(event.recurrence.exdates):
        if not is_occurrence(event.recurrence.rule, series.starts_at, zone, exdate):
            raise field_error(
                f"exdates.{index}",
                N_("%(time)s is not an occurrence of the series"),
                "not_an_occurrence",
                time=f"{exdate.astimezone(zone):%Y-%m-%d %H:%M}",
            )
    if len(occurrences(conference, series, overrides)) > MAX_OCCURRENCES:
        raise field_error(
            "rrule",
            N_("a series has at most %(count)s occurrences"),
            "series_too_long",
            count=str(MAX_OCCURRENCES),
        )


def is_occurrence_of(series: AgendaSession, instant: dt.datetime) -> bool:
    """Whether ``instant`` is a start the series' rule gives (EXDATEs included)."""
    assert series.rrule is not None
    return is_occurrence(series.rrule, series.starts_at, ZoneInfo(series.time_zone), instant)


def occurrences(
    conference: Conference,
    series: AgendaSession,
    overrides: list[AgendaSession],
    window: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[SessionOccurrence]:
    """The occurrences of a session in ``window`` (default: the conference's span)."""
    if series.status == SessionStatus.CANCELLED:
        return []
    start, end = window or (conference.starts_at, conference.ends_at)
    by_rid = {o.recurrence_id: o for o in overrides}
    found = []
    for occurrence in expand(event_of(series, overrides), start, end, max_occurrences=5000):
        row = series
        if occurrence.moved:
            row = by_rid[occurrence.recurrence_id]
        found.append(
            SessionOccurrence(
                row, series, occurrence.recurrence_id, occurrence.start, occurrence.end
            )
        )
    return found


def _local(instant: dt.datetime, conference: Conference) -> str:
    return f"{instant.astimezone(ZoneInfo(conference.time_zone)):%Y-%m-%d %H:%M %Z}"


def _exdates(values: list[dt.datetime], zone: ZoneInfo) -> list[dt.datetime]:
    return [to_utc(v, zone, f"exdates.{i}") for i, v in enumerate(values)]


def set_recurrence(
    row: AgendaSession, body: SessionCreate | SessionUpdate, changed: dict[str, Any]
) -> None:
    """Set the rule and excluded dates a request gives, noting in ``changed`` what changed."""
    zone = ZoneInfo(row.time_zone)
    given = body.model_fields_set
    if "rrule" in given:
        rule = None
        if body.rrule:
            try:
                rule = Recurrence(body.rrule).rule
            except ValueError as exc:
                raise recurrence_refused(exc) from None
        if rule != row.rrule:
            row.rrule = rule
            changed["rrule"] = rule
    if "exdates" in given and body.exdates is not None:
        exdates = iso_list(_exdates(body.exdates, zone))
        if exdates != row.exdates:
            row.exdates, changed["exdates"] = exdates, exdates
    if not row.rrule and row.exdates:
        raise field_error(
            "exdates", N_("only a series (with rrule) has excluded dates"), "not_a_series"
        )
