"""Calendar invitations: iTIP REQUEST and CANCEL messages per session, sent by e-mail.

One message carries one UID (a session, or a series with its changed occurrences) to one
attendee, with that attendee's own links in its DESCRIPTION (``personal``). What was sent
is recorded per UID and recipient (``CalendarDispatch``), so the next call sends only what
changed since: a session whose SEQUENCE (or one of whose changed occurrences' SEQUENCE) moved
is sent again with the same UID; a cancelled session goes out as CANCEL to everyone who had
its REQUEST (the conferences code has already raised its SEQUENCE); the rest is skipped as
unchanged. The plan is made in one read transaction, the letters go over one SMTP connection
outside any transaction, and what the server accepted is recorded (with the audit entry) in
one write transaction. If the SMTP server cannot be reached nothing is recorded. Two
organisers sending at the same moment may both send.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.calendars.events import Writer, load_conferences, load_people
from server.calendars.mail import Letter, Outcome
from server.calendars.personal import personal_links, personalised
from server.conferences.access import no_such_conference
from server.errors import Conflict, NotFound
from server.i18n_strings import N_
from server.ical.ics import Attendee, AttendeeRole, CalendarEvent, Method, calendar
from server.ical.wording import repeats
from server.identity import Identity
from server.models import AgendaSession, CalendarDispatch, Conference, SessionStatus, User

#: The gettext of a locale (``None``: English), for the letters' text.
Translate = Callable[[str | None], Callable[[str], str]]


def english(locale: str | None) -> Callable[[str], str]:
    return lambda message: message


@dataclass(frozen=True)
class Planned:
    session_id: int
    uid: str
    sequence: int
    fingerprint: str
    letter: Letter


@dataclass
class InvitationPlan:
    conference_id: int
    letters: list[Planned]
    skipped: list[dict[str, Any]]


def fingerprint(series: AgendaSession, overrides: list[AgendaSession]) -> str:
    """The SEQUENCEs of a series and its changed occurrences, as one comparable value."""
    parts = [str(series.sequence), series.status]
    parts += [f"{o.recurrence_id}={o.sequence}" for o in overrides]
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:40]


async def _conference(db: AsyncSession, conference_id: int) -> tuple[Conference, dict[int, User]]:
    found = await load_conferences(db, [conference_id])
    if not found:
        raise no_such_conference(conference_id)
    conference = found[0]
    people = await load_people(db, found)
    if conference.organiser_id not in people:
        raise Conflict(
            N_("conference %(conference)s has no organiser to send invitations from"),
            code="no_organiser",
            params={"conference": str(conference_id)},
        )
    return conference, people


def _overrides(conference: Conference) -> dict[int, list[AgendaSession]]:
    found: dict[int, list[AgendaSession]] = {}
    for session in conference.sessions:
        if session.series_id is not None and session.status != SessionStatus.CANCELLED:
            found.setdefault(session.series_id, []).append(session)
    return found


async def invitation(db: AsyncSession, conference_id: int, session_id: int, base_url: str) -> bytes:
    """The REQUEST of a session (its series if it is a changed occurrence), or its CANCEL."""
    conference, people = await _conference(db, conference_id)
    rows = {s.id: s for s in conference.sessions}
    row = rows.get(session_id)
    if row is None:
        raise NotFound(
            N_("conference %(conference)s has no session %(session)s"),
            code="session_not_found",
            params={"conference": str(conference_id), "session": str(session_id)},
        )
    series = rows[row.series_id] if row.series_id is not None else row
    event = Writer(base_url, people).event(
        conference, series, _overrides(conference).get(series.id, [])
    )
    if series.status == SessionStatus.CANCELLED:
        return calendar([event], method="CANCEL")
    if not event.attendees:
        raise Conflict(
            N_(
                "session %(session)s has nobody to invite: give it a chair, sites with contacts,"
                " delegations or interpreters"
            ),
            code="no_attendees",
            params={"session": str(series.id)},
        )
    return calendar([event], method="REQUEST")


async def plan(
    db: AsyncSession,
    conference_id: int,
    base_url: str,
    session_ids: list[int] | None,
    translate: Translate = english,
) -> InvitationPlan:
    """The letters to send: written in each recipient's language and zone if they have an
    account, else in English and the session's zone."""
    conference, people = await _conference(db, conference_id)
    accounts = {u.email.lower(): u for u in people.values()}
    known = {s.id for s in conference.sessions if s.series_id is None}
    for session_id in session_ids or []:
        if session_id not in known:
            raise NotFound(
                N_("conference %(conference)s has no session or series %(session)s"),
                code="session_not_found",
                params={"conference": str(conference_id), "session": str(session_id)},
            )
    last: dict[str, dict[str, CalendarDispatch]] = {}  # UID -> recipient -> last sent
    for sent in await db.scalars(
        select(CalendarDispatch)
        .where(CalendarDispatch.conference_id == conference_id)
        .order_by(CalendarDispatch.id)
    ):
        last.setdefault(sent.uid, {})[sent.recipient.lower()] = sent
    writer = Writer(base_url, people)
    overrides = _overrides(conference)
    links = await personal_links(db, list(people.values()), [conference], base_url)
    result = InvitationPlan(conference_id, [], [])
    for series in conference.sessions:
        if series.series_id is not None or (session_ids and series.id not in session_ids):
            continue
        changed = overrides.get(series.id, [])
        event = writer.event(conference, series, changed)
        mark = fingerprint(series, changed)
        cancelled = series.status == SessionStatus.CANCELLED
        method: Method = "CANCEL" if cancelled else "REQUEST"
        ics = calendar([event], method=method) if event.attendees or cancelled else b""
        earlier = last.get(event.uid, {})
        for attendee in event.attendees:
            before = earlier.get(attendee.email.lower())
            item = {
                "session_id": series.id,
                "uid": event.uid,
                "sequence": event.sequence,
                "method": method,
                "recipient": attendee.email,
            }
            if cancelled and (before is None or before.method == "CANCEL"):
                result.skipped.append({**item, "reason": "never invited or already cancelled"})
                continue
            if (
                not cancelled
                and before is not None
                and before.method == "REQUEST"
                and before.fingerprint == mark
            ):
                result.skipped.append({**item, "reason": "unchanged"})
                continue
            account = accounts.get(attendee.email.lower())
            reader = Reader.of(account, translate)
            own = () if cancelled or account is None else links.get((account.id, conference.id))
            mine = personalised(event, own or ())
            body = calendar([mine], method=method) if own else ics
            sequence = sequence_for(event.sequence, before)
            if sequence != event.sequence:
                mine = dataclasses.replace(mine, sequence=sequence)
                body = calendar([mine], method=method)
            letter = _letter(conference, mine, attendee.name, attendee.email, method, body, reader)
            if before is not None:
                updated = reader.gettext(N_("Updated"))
                letter = dataclasses.replace(letter, subject=f"{updated}: {letter.subject}")
            result.letters.append(Planned(series.id, event.uid, sequence, mark, letter))
        current = {a.email.lower() for a in event.attendees}
        for recipient, before in earlier.items():
            if recipient not in current and before.method == "REQUEST":
                reader = Reader.of(accounts.get(recipient), translate)
                result.letters.append(_uninvite(conference, series.id, event, before, mark, reader))
    return result


def sequence_for(sequence: int, before: CalendarDispatch | None) -> int:
    """The SEQUENCE of a letter to someone who got ``before`` (RFC 5546 §2.1.4): above it.

    A calendar keeps the copy with the higher SEQUENCE. A letter is only sent again after a
    change, and then the session's own SEQUENCE has usually grown past ``before``; not so for
    an attendee taken off and put back (their CANCEL was above the session's SEQUENCE, and a
    REQUEST at the session's own would be ignored as old, leaving it cancelled for them)."""
    return sequence if before is None else max(sequence, before.sequence + 1)


def _uninvite(
    conference: Conference,
    session_id: int,
    event: CalendarEvent,
    before: CalendarDispatch,
    mark: str,
    reader: Reader,
) -> Planned:
    """The CANCEL for someone invited earlier who is no longer an attendee (RFC 5546
    §3.2.5: the organiser cancels the event for that attendee). Its SEQUENCE is above the
    one they had, even where the change (a new chair, say) left the session's own alone."""
    sequence = max(event.sequence, before.sequence + 1)
    gone = dataclasses.replace(
        event,
        attendees=(Attendee("", before.recipient, AttendeeRole.REQ_PARTICIPANT),),
        sequence=sequence,
        overrides=(),
    )
    ics = calendar([gone], method="CANCEL")
    letter = _letter(conference, gone, "", before.recipient, "CANCEL", ics, reader)
    return Planned(session_id, event.uid, sequence, mark, letter)


@dataclass(frozen=True)
class Reader:
    """Who reads a letter: their language and time zone."""

    gettext: Callable[[str], str]
    time_zone: str | None
    locale: str = "en"

    @classmethod
    def of(cls, user: User | None, translate: Translate) -> Reader:
        if user is None:
            return cls(translate(None), None)
        return cls(translate(user.locale), user.time_zone, user.locale or "en")


def _when(event: CalendarEvent, zone_name: str) -> str:
    zone = ZoneInfo(zone_name)
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} {zone_name}"


def _letter(
    conference: Conference,
    event: CalendarEvent,
    name: str,
    email: str,
    method: str,
    ics: bytes,
    reader: Reader,
) -> Letter:
    _ = reader.gettext
    when = _when(event, event.time_zone)
    times = [when]
    if reader.time_zone and reader.time_zone != event.time_zone:
        times.append(_when(event, reader.time_zone))
    if event.recurrence is not None:
        zone = reader.time_zone or event.time_zone
        rule = repeats(event.recurrence.rule, _, reader.locale, zone)
        times.append(f"{_(N_('Repeats'))}: {rule}")
    verb = _(N_("Cancelled")) if method == "CANCEL" else _(N_("Invitation"))
    summary = "\n\n".join(
        [
            f"{verb}: {event.summary}",
            "\n".join([conference.title, *times, event.location]),
            event.description,
            f"{_(N_('Conference page'))}: {event.url}",
        ]
    )
    return Letter(email, name, f"{verb}: {event.summary} ({when})", summary, method, ics)


async def record(
    db: AsyncSession,
    actor: Identity,
    plan: InvitationPlan,
    outcomes: list[Outcome],
    remote: str = "",
) -> dict[str, Any]:
    """Record what the SMTP server accepted, and answer with the summary."""
    by_letter = {id(p.letter): p for p in plan.letters}
    sent, failed = [], []
    for outcome in outcomes:
        planned = by_letter[id(outcome.letter)]
        item = {
            "session_id": planned.session_id,
            "uid": planned.uid,
            "sequence": planned.sequence,
            "method": planned.letter.method,
            "recipient": planned.letter.recipient,
        }
        if outcome.error is not None:
            failed.append({**item, "error": outcome.error})
            continue
        sent.append(item)
        db.add(
            CalendarDispatch(
                conference_id=plan.conference_id,
                uid=planned.uid,
                sequence=planned.sequence,
                fingerprint=planned.fingerprint,
                recipient=planned.letter.recipient,
                method=planned.letter.method,
            )
        )
    await db.flush()
    audit.record(
        db,
        actor,
        "calendar.invitations_sent",
        "conference",
        plan.conference_id,
        conference_id=plan.conference_id,
        detail={"sent": len(sent), "failed": len(failed), "skipped": len(plan.skipped)},
        remote=remote,
    )
    return {"sent": sent, "skipped": plan.skipped, "failed": failed}
