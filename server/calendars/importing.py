"""Sessions from an ``.ics`` file, all or nothing.

Each VEVENT becomes a session through the conferences operations (``create_session``; a
moved occurrence of a series through ``update_session`` with its RECURRENCE-ID), so the same
validation and conflict checks apply as for sessions typed in. Sessions get UIDs of their
own (the file's UIDs may already be in the calendars of another conference); cancelled
events are left out. The caller runs this in one transaction: the first refusal (422 naming
the event, or 409 with the conflicts) rolls everything back.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.calendars.events import own_description
from server.conferences import sessions
from server.conferences.inputs import SessionCreate, SessionUpdate
from server.errors import InvalidInput
from server.ical.ics import CalendarEvent, Status
from server.identity import Identity
from server.models import AgendaSession
from server.web import validation_errors


def _body(event: CalendarEvent, *, series: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": event.summary,
        "description": own_description(event.description),
        "starts_at": event.start,
        "ends_at": event.end,
        "time_zone": event.time_zone,
    }
    if series and event.recurrence is not None:
        body["rrule"] = event.recurrence.rule
        body["exdates"] = list(event.recurrence.exdates)
    return body


def _what(event: CalendarEvent) -> str:
    return f"event {event.uid!r} ({event.summary!r})"


def _validated(
    model: type[SessionCreate] | type[SessionUpdate], event: CalendarEvent, body: dict[str, Any]
) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(f"{_what(event)}: {summary}", errors=errors) from None


async def import_events(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    events: list[CalendarEvent],
    remote: str = "",
) -> list[AgendaSession]:
    made: list[AgendaSession] = []
    for event in events:
        if event.status == Status.CANCELLED:
            continue
        body = _validated(SessionCreate, event, _body(event, series=True))
        try:
            row = await sessions.create_session(db, actor, conference_id, body, remote)
            made.append(row)
            for override in event.overrides:
                if override.status == Status.CANCELLED:
                    continue
                change = _validated(SessionUpdate, override, _body(override, series=False))
                made.append(
                    await sessions.update_session(
                        db, actor, conference_id, row.id, change, override.recurrence_id, remote
                    )
                )
        except InvalidInput as exc:
            raise InvalidInput(
                f"{_what(event)}: {exc.message}", code=exc.code, errors=exc.errors
            ) from None
    return made
