"""The minutes' first draft from the agenda, and their attendance and floor interventions from
the room's stored events (``room_events``), read from the database for the pure core."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.conferences.access import no_such_conference
from server.conferences.series import occurrences
from server.minutes import attendance as present
from server.minutes.document import (
    MAX_LANGUAGES,
    MAX_TITLE,
    Intervention,
    ItemMinutes,
    Minutes,
    SiteAttendance,
)
from server.models import AgendaSession, Conference, RoomEventRecord, SessionStatus

#: Room events the minutes read (presence and the floor).
READ_EVENTS = frozenset(
    {
        *present.JOINED,
        *present.GONE,
        *present.LEFT_ROOM,
        *present.ROOM_CLOSED,
        "floor.granted",
        "floor.released",
        present.REOPENED,
    }
)


async def load_conference(db: AsyncSession, conference_id: int) -> Conference:
    conference = await db.scalar(
        select(Conference)
        .where(Conference.id == conference_id)
        .options(
            selectinload(Conference.languages),
            selectinload(Conference.sessions).selectinload(AgendaSession.sites),
            selectinload(Conference.sites),
            selectinload(Conference.delegations),
        )
    )
    if conference is None:
        raise no_such_conference(conference_id)
    return conference


def agenda_sessions(conference: Conference) -> list[AgendaSession]:
    """The sessions the minutes follow: each confirmed session (a series once)."""
    return [
        s
        for s in conference.sessions
        if s.series_id is None and s.status != SessionStatus.CANCELLED.value
    ]


MAX_OCCURRENCES = 60  # items one repeating session may become


@dataclass(frozen=True)
class AgendaItem:
    """One agenda item of the minutes: a session, or one occurrence of a repeating session
    (each day of a working group that meets every morning is minuted on its own)."""

    key: str  # the items' ``session_uid``: the session's uid, "+<UTC start>" for an occurrence
    session: AgendaSession  # whose title and sites apply (a moved occurrence's own row)
    starts_at: dt.datetime
    ends_at: dt.datetime


def occurrence_key(uid: str, recurrence_id: dt.datetime) -> str:
    """The minutes' key of one occurrence: its series' uid and the start the rule gave it."""
    return f"{uid}+{recurrence_id.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def agenda_items(conference: Conference) -> list[AgendaItem]:
    """The minutes' agenda, in the agenda's order: each session, a repeating one as each of
    its occurrences in the conference's span (cancelled ones left out)."""
    items: list[AgendaItem] = []
    for session in agenda_sessions(conference):
        if session.rrule is None:
            items.append(AgendaItem(session.uid, session, session.starts_at, session.ends_at))
            continue
        overrides = [s for s in conference.sessions if s.series_id == session.id]
        for found in occurrences(conference, session, overrides)[:MAX_OCCURRENCES]:
            if found.row.status == SessionStatus.CANCELLED.value:
                continue
            key = occurrence_key(session.uid, found.recurrence_id)
            items.append(AgendaItem(key, found.row, found.start, found.end))
    return items


def written_languages(conference: Conference) -> tuple[str, ...]:
    """The conference languages the minutes are written in (sign languages are not written)."""
    codes = [lang.code for lang in conference.languages if not lang.is_sign_language]
    return tuple(codes[:MAX_LANGUAGES]) or ("en",)


#: Letters only Vietnamese writes among the Latin ones (its vowels with their marks, and đ).
VIETNAMESE = frozenset("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


def written_in(text: str) -> str:
    """The language an agenda title is most likely written in: Lao by its script, Vietnamese
    by its marked letters, else English (the usual third language of these agendas)."""
    if any("\u0e80" <= ch <= "\u0eff" for ch in text):
        return "lo"
    return "vi" if VIETNAMESE & set(text.lower()) else "en"


def draft_titles(title: str, languages: tuple[str, ...]) -> dict[str, str]:
    """An item's title per language: the agenda's title in the language it is written in,
    and empty in the others for the secretary to translate (the editor shows the agenda's
    title beside them), so that no column starts with another language's text."""
    language = written_in(title)
    return {code: title[:MAX_TITLE] if code == language else "" for code in languages}


def first_draft(conference: Conference) -> Minutes:
    """One empty item per agenda item (``agenda_items``: a repeating session's occurrences
    each on their own), titled in the language its agenda title is written in
    (``draft_titles``), in the conference's written languages."""
    languages = written_languages(conference)
    items = tuple(
        ItemMinutes(
            session_uid=item.key,
            session_id=item.session.id,
            title=draft_titles(item.session.title, languages),
            discussion={code: "" for code in languages},
        )
        for item in agenda_items(conference)
    )
    return Minutes(conference_id=conference.id, languages=languages, items=items)


async def room_events(db: AsyncSession, conference_id: int) -> list[present.RoomEvent]:
    rows = await db.execute(
        select(RoomEventRecord.at, RoomEventRecord.type, RoomEventRecord.site_id)
        .where(
            RoomEventRecord.conference_id == conference_id,
            RoomEventRecord.type.in_(sorted(READ_EVENTS)),
        )
        .order_by(RoomEventRecord.at, RoomEventRecord.id)
    )
    return [(at, kind, site) for at, kind, site in rows]


async def from_the_room(db: AsyncSession, conference: Conference, minutes: Minutes) -> Minutes:
    """``minutes`` with attendance and interventions recomputed from the stored room events,
    session by session (each site expected in a session is listed, present or not)."""
    events = await room_events(db, conference.id)
    rows: list[SiteAttendance] = []
    turns: list[Intervention] = []
    everyone = [site.id for site in conference.sites]
    for item in agenda_items(conference):
        expected = [site.id for site in item.session.sites] or everyone
        rows += present.attendance(
            events, item.starts_at, item.ends_at, session_uid=item.key, sites=expected
        )
        turns += present.interventions(events, item.starts_at, item.ends_at, session_uid=item.key)
    return replace(minutes, attendance=tuple(rows), interventions=tuple(turns))
