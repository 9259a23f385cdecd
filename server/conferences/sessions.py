"""Sessions of a conference: create, change, remove; whole series or one occurrence.

- A session is planned in an IANA zone and stored in UTC; it must end after it starts and
  lie inside its conference.
- ``sequence`` (iCalendar SEQUENCE) goes up by one with every change of time, zone, title,
  place (its sites), recurrence or status; other changes (description, speakers, chair,
  booths) keep it.
- A series (``rrule``) is edited as a whole, or one occurrence at a time (``occurrence`` =
  its RECURRENCE-ID, the start its rule gives it): the first change of an occurrence makes
  a row of its own for it (``series_id``, ``recurrence_id``, the series' UID). Changing the
  series' start or rule drops the exceptions that no longer name one of its occurrences
  (as calendar programs do). Removing one occurrence adds it to ``exdates``.
- Removing a session from a draft deletes it; once the conference is past its draft the
  session is cancelled instead (kept, SEQUENCE+1), so invitations can be withdrawn.

Every change rebooks the conference (``bookings.rebook``), which refuses overlaps with 409.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server import audit
from server.conferences.bookings import MAX_SESSION, rebook
from server.conferences.inputs import SessionCreate, SessionUpdate
from server.conferences.operations import editable_conference
from server.conferences.parts import active_user
from server.conferences.series import check_series, is_occurrence_of, set_recurrence
from server.conferences.timing import check_zone, field_error, from_iso_list, iso_list, to_utc
from server.errors import NotFound
from server.i18n_strings import N_
from server.identity import Identity
from server.models import (
    AgendaSession,
    Conference,
    ConferenceLanguage,
    ConferenceStatus,
    SessionStatus,
    Site,
)
from server.models.conferences import new_uid

#: Changes that calendars must hear about (SEQUENCE + 1).
SIGNIFICANT = frozenset(
    {"starts_at", "ends_at", "time_zone", "title", "sites", "rrule", "exdates", "status"}
)


@dataclass
class SessionChange:
    """What one request changed on a session row, for SEQUENCE and the audit log."""

    fields: dict[str, Any]

    @property
    def significant(self) -> bool:
        return bool(SIGNIFICANT & self.fields.keys())


async def get_session(db: AsyncSession, conference_id: int, session_id: int) -> AgendaSession:
    found = await db.scalar(
        select(AgendaSession)
        .where(AgendaSession.id == session_id, AgendaSession.conference_id == conference_id)
        .options(selectinload(AgendaSession.sites))
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(
            N_("conference %(conference)s has no session %(session)s"),
            code="session_not_found",
            params={"conference": str(conference_id), "session": str(session_id)},
        )
    return found


async def list_sessions(db: AsyncSession, conference_id: int) -> list[AgendaSession]:
    rows = await db.scalars(
        select(AgendaSession)
        .where(AgendaSession.conference_id == conference_id)
        .options(selectinload(AgendaSession.sites))
        .order_by(AgendaSession.starts_at, AgendaSession.id)
    )
    return list(rows)


async def _overrides(db: AsyncSession, series: AgendaSession) -> list[AgendaSession]:
    rows = await db.scalars(
        select(AgendaSession)
        .where(AgendaSession.series_id == series.id)
        .options(selectinload(AgendaSession.sites))
        .order_by(AgendaSession.recurrence_id)
    )
    return list(rows)


class Planner:
    """Applies the fields of a request to one session row, checking each against the
    conference (zone, span, its sites, booths, users) and naming the field it refuses."""

    def __init__(self, db: AsyncSession, conference: Conference) -> None:
        self.db, self.conference = db, conference

    async def apply(
        self, row: AgendaSession, body: SessionCreate | SessionUpdate, given: set[str]
    ) -> SessionChange:
        changed: dict[str, Any] = {}
        await self._times(row, body, given, changed)
        for name in ("title", "description"):
            value = getattr(body, name)
            if name in given and value is not None and value != getattr(row, name):
                setattr(row, name, value)
                changed[name] = value
        if "speakers" in given and body.speakers is not None:
            speakers = [s.strip() for s in body.speakers if s.strip()]
            if speakers != row.speakers:
                row.speakers, changed["speakers"] = speakers, speakers
        if "site_ids" in given and body.site_ids is not None:
            sites = await self._sites(body.site_ids)
            if {s.id for s in sites} != {s.id for s in row.sites}:
                row.sites, changed["sites"] = sites, [s.id for s in sites]
        if "interpreted_languages" in given and body.interpreted_languages is not None:
            languages = await self._booths(body.interpreted_languages)
            if languages != row.interpreted_languages:
                row.interpreted_languages = languages
                changed["interpreted_languages"] = languages
        if "chair_id" in given and body.chair_id != row.chair_id:
            if body.chair_id is not None:
                await active_user(self.db, body.chair_id, "chair_id")
            row.chair_id, changed["chair_id"] = body.chair_id, body.chair_id
        return SessionChange(changed)

    async def _times(
        self,
        row: AgendaSession,
        body: SessionCreate | SessionUpdate,
        given: set[str],
        changed: dict[str, Any],
    ) -> None:
        zone_name = body.time_zone or row.time_zone or self.conference.time_zone
        zone = check_zone(zone_name)
        start = row.starts_at
        end = row.ends_at
        if body.starts_at is not None:
            start = to_utc(body.starts_at, zone, "starts_at")
            if body.ends_at is None and row.ends_at is not None:
                end = start + (row.ends_at - row.starts_at)  # moved: keeps its length
        if body.ends_at is not None:
            end = to_utc(body.ends_at, zone, "ends_at")
        if end <= start:
            raise field_error(
                "ends_at", N_("the session must end after it starts"), "end_before_start"
            )
        if end - start > MAX_SESSION:
            raise field_error(
                "ends_at",
                N_(
                    "a session lasts at most %(hours)s hours; make a longer meeting several"
                    " sessions"
                ),
                "session_too_long",
                hours=f"{MAX_SESSION.total_seconds() / 3600:.0f}",
            )
        conference = self.conference
        span = f"{_local(conference.starts_at, zone)} – {_local(conference.ends_at, zone)}"
        if start < conference.starts_at:
            raise field_error(
                "starts_at",
                N_("%(time)s is before the conference (%(span)s)"),
                "outside_conference",
                time=_local(start, zone),
                span=span,
            )
        if end > conference.ends_at:
            raise field_error(
                "ends_at",
                N_("%(time)s is after the conference (%(span)s)"),
                "outside_conference",
                time=_local(end, zone),
                span=span,
            )
        for name, value in (("starts_at", start), ("ends_at", end), ("time_zone", zone_name)):
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed[name] = value.isoformat() if isinstance(value, dt.datetime) else value
        del given  # times are read from the body's values; absence means "unchanged"

    async def _sites(self, ids: list[int]) -> list[Site]:
        found = {
            site.id: site
            for site in await self.db.scalars(
                select(Site).where(Site.conference_id == self.conference.id, Site.id.in_(ids))
            )
        }
        for index, site_id in enumerate(ids):
            if site_id not in found:
                raise field_error(
                    f"site_ids.{index}",
                    N_("conference %(conference)s has no site %(site)s"),
                    "unknown_site",
                    conference=str(self.conference.id),
                    site=str(site_id),
                )
        return [found[i] for i in sorted(set(ids))]

    async def _booths(self, codes: list[str]) -> list[str]:
        booths = set(
            await self.db.scalars(
                select(ConferenceLanguage.code).where(
                    ConferenceLanguage.conference_id == self.conference.id,
                    ConferenceLanguage.is_interpreted.is_(True),
                )
            )
        )
        for index, code in enumerate(codes):
            if code not in booths:
                raise field_error(
                    f"interpreted_languages.{index}",
                    N_("%(language)s is not interpreted in this conference (booths: %(booths)s)"),
                    "unknown_language",
                    language=code,
                    booths=", ".join(sorted(booths)) or "—",
                )
        return sorted(set(codes))


def _local(instant: dt.datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


async def create_session(
    db: AsyncSession, actor: Identity, conference_id: int, body: SessionCreate, remote: str = ""
) -> AgendaSession:
    conference = await editable_conference(db, conference_id)
    row = AgendaSession(
        conference_id=conference_id,
        uid=new_uid(),
        sequence=0,
        status=SessionStatus.CONFIRMED.value,
        time_zone="",
        sites=[],
        speakers=[],
        interpreted_languages=[],
        exdates=[],
    )
    await Planner(db, conference).apply(row, body, set(body.model_fields_set) | {"title"})
    change = SessionChange({})
    set_recurrence(row, body, change.fields)
    check_series(conference, row, [])
    db.add(row)
    await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "session.created",
        "session",
        row.id,
        conference_id=conference_id,
        detail={"title": row.title, "starts_at": row.starts_at.isoformat(), "rrule": row.rrule},
        remote=remote,
    )
    return row


async def update_session(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    session_id: int,
    body: SessionUpdate,
    occurrence: dt.datetime | None = None,
    remote: str = "",
) -> AgendaSession:
    """Change a session, a whole series, or (``occurrence``) one occurrence of a series."""
    conference = await editable_conference(db, conference_id)
    row = await get_session(db, conference_id, session_id)
    if row.status == SessionStatus.CANCELLED:
        raise field_error(
            "session_id",
            N_("session %(session)s is cancelled"),
            "session_cancelled",
            session=str(session_id),
        )
    given = set(body.model_fields_set)
    if occurrence is not None:
        row = await _occurrence_row(db, row, occurrence)
    if row.series_id is not None and given & {"rrule", "exdates"}:
        raise field_error(
            "rrule" if "rrule" in given else "exdates",
            N_("the rule and excluded dates belong to the series: edit it without ?occurrence"),
            "occurrence_has_no_rule",
        )
    change = await Planner(db, conference).apply(row, body, given)
    if row.series_id is None:
        set_recurrence(row, body, change.fields)
    series = row if row.series_id is None else await get_session(db, conference_id, row.series_id)
    overrides = await _overrides(db, series) if series.rrule else []
    if row is series and {"starts_at", "rrule"} & change.fields.keys():
        overrides = await _drop_orphans(db, series, overrides, change)
    if row is not series and row not in overrides:
        overrides.append(row)
    check_series(conference, series, overrides)
    if change.significant:
        row.sequence += 1
    if row.id is None:
        db.add(row)
    await rebook(db, conference_id)
    if change.fields:
        audit.record(
            db,
            actor,
            "session.updated",
            "session",
            row.id,
            conference_id=conference_id,
            detail={
                **change.fields,
                "occurrence": row.recurrence_id.isoformat() if row.recurrence_id else None,
                "sequence": row.sequence,
            },
            remote=remote,
        )
    return row


async def _occurrence_row(
    db: AsyncSession, series: AgendaSession, occurrence: dt.datetime
) -> AgendaSession:
    """The row of one occurrence: its existing exception, or a new one copied from the series
    (not yet added to the database)."""
    if series.series_id is not None or not series.rrule:
        raise field_error(
            "occurrence",
            N_("session %(session)s is not a series"),
            "not_a_series",
            session=str(series.id),
        )
    rid = occurrence.astimezone(dt.UTC).replace(microsecond=0)
    if rid in from_iso_list(series.exdates) or not is_occurrence_of(series, rid):
        raise NotFound(
            N_(
                "the series %(series)s has no occurrence at %(start)s"
                " (give the start its rule gives it, in UTC)"
            ),
            code="occurrence_not_found",
            params={"series": str(series.id), "start": rid.isoformat()},
        )
    for existing in await _overrides(db, series):
        if existing.recurrence_id == rid:
            return existing
    return AgendaSession(
        conference_id=series.conference_id,
        title=series.title,
        description=series.description,
        starts_at=rid,
        ends_at=rid + (series.ends_at - series.starts_at),
        time_zone=series.time_zone,
        chair_id=series.chair_id,
        speakers=list(series.speakers),
        interpreted_languages=list(series.interpreted_languages),
        uid=series.uid,
        sequence=series.sequence,
        exdates=[],
        series_id=series.id,
        recurrence_id=rid,
        sites=list(series.sites),
    )


async def _drop_orphans(
    db: AsyncSession, series: AgendaSession, overrides: list[AgendaSession], change: SessionChange
) -> list[AgendaSession]:
    """After the series' start or rule changed: drop the exceptions and excluded dates that
    no longer name one of its occurrences."""
    if not series.rrule:
        for override in overrides:
            await db.delete(override)
        series.exdates = []
        return []
    kept = []
    for override in overrides:
        assert override.recurrence_id is not None
        if is_occurrence_of(series, override.recurrence_id):
            kept.append(override)
        else:
            await db.delete(override)
            change.fields.setdefault("dropped_exceptions", []).append(
                override.recurrence_id.isoformat()
            )
    exdates = [d for d in from_iso_list(series.exdates) if is_occurrence_of(series, d)]
    series.exdates = iso_list(exdates)
    return kept


async def remove_session(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    session_id: int,
    occurrence: dt.datetime | None = None,
    remote: str = "",
) -> AgendaSession | None:
    """Remove one occurrence (EXDATE), delete a draft's session, or cancel the session."""
    conference = await editable_conference(db, conference_id)
    row = await get_session(db, conference_id, session_id)
    if occurrence is not None or row.series_id is not None:
        return await _remove_occurrence(db, actor, conference, row, occurrence, remote)
    if conference.status == ConferenceStatus.DRAFT:
        await db.delete(row)
        await rebook(db, conference_id)
        audit.record(
            db,
            actor,
            "session.deleted",
            "session",
            session_id,
            conference_id=conference_id,
            detail={"title": row.title, "uid": row.uid},
            remote=remote,
        )
        return None
    if row.status != SessionStatus.CANCELLED:
        row.status = SessionStatus.CANCELLED.value
        row.sequence += 1
        await db.execute(
            delete(AgendaSession).where(AgendaSession.series_id == row.id)
        )  # a cancelled series is cancelled whole
        await rebook(db, conference_id)
        audit.record(
            db,
            actor,
            "session.cancelled",
            "session",
            session_id,
            conference_id=conference_id,
            detail={"uid": row.uid, "sequence": row.sequence},
            remote=remote,
        )
    return row


async def _remove_occurrence(
    db: AsyncSession,
    actor: Identity,
    conference: Conference,
    row: AgendaSession,
    occurrence: dt.datetime | None,
    remote: str,
) -> AgendaSession:
    if row.series_id is not None:  # an exception's own row: remove its occurrence
        assert row.recurrence_id is not None
        occurrence = row.recurrence_id
        row = await get_session(db, conference.id, row.series_id)
    assert occurrence is not None
    existing = await _occurrence_row(db, row, occurrence)
    rid = existing.recurrence_id
    assert rid is not None
    if existing.id is not None:
        await db.delete(existing)
    row.exdates = iso_list([*from_iso_list(row.exdates), rid])
    row.sequence += 1
    await rebook(db, conference.id)
    audit.record(
        db,
        actor,
        "session.occurrence_removed",
        "session",
        row.id,
        conference_id=conference.id,
        detail={"occurrence": rid.isoformat(), "uid": row.uid, "sequence": row.sequence},
        remote=remote,
    )
    return row
