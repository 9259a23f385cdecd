"""When a conference's bridge room may be joined.

- An ended, archived or cancelled conference's room is closed to everyone.
- Its chair (organisers and technicians) may open it at any earlier time, for rehearsals and
  site checks, even before the conference is approved.
- Sites and interpreters may join once the conference is approved (approved, scheduled or
  live), from ``opens_before`` before it starts (``CONCORD_ROOM_OPENS_MINUTES``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.conferences.lifecycle import ROOM_CLOSED
from server.models import ConferenceStatus

HELD = frozenset({ConferenceStatus.APPROVED, ConferenceStatus.SCHEDULED, ConferenceStatus.LIVE})


@dataclass(frozen=True)
class Closed:
    """Why the room cannot be joined now: a stable code and a sentence naming the reason."""

    code: str
    detail: str
    opens_at: dt.datetime | None = None


def closed_for(
    status: ConferenceStatus,
    starts_at: dt.datetime,
    now: dt.datetime,
    opens_before: dt.timedelta,
    chair: bool,
) -> Closed | None:
    """None when this person may join now, else why not."""
    if status in ROOM_CLOSED:
        said = "was cancelled" if status == ConferenceStatus.CANCELLED else "has ended"
        return Closed("room_closed", f"the conference {said}: its room is closed")
    if chair:
        return None
    if status not in HELD:
        return Closed(
            "room_not_open", "the conference is not approved yet: its room opens once it is"
        )
    opens_at = _aware(starts_at) - opens_before
    if now < opens_at:
        return Closed(
            "room_not_open",
            f"the room opens at {opens_at.isoformat(timespec='minutes')}",
            opens_at,
        )
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
