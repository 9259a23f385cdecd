"""JSON shapes of conferences as the API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from server.conferences.lifecycle import next_statuses
from server.models import ConferenceStatus


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LanguageOut(Out):
    code: str
    is_floor: bool
    is_interpreted: bool
    is_sign_language: bool


class SessionSiteOut(Out):
    id: int
    name: str


class SessionOut(Out):
    id: int
    conference_id: int
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    speakers: list[str]
    chair_id: int | None
    sites: list[SessionSiteOut]
    interpreted_languages: list[str]
    uid: str
    sequence: int
    status: str
    rrule: str | None
    exdates: list[dt.datetime]
    series_id: int | None
    recurrence_id: dt.datetime | None


class OccurrenceOut(BaseModel):
    """One concrete occurrence of a session (a series expanded, moved occurrences in place)."""

    session_id: int
    series_id: int | None
    uid: str
    recurrence_id: dt.datetime
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    local_starts_at: str
    local_ends_at: str
    moved: bool


class VenueOut(Out):
    id: int
    name: str
    location: str
    time_zone: str


class SiteOut(Out):
    id: int
    name: str
    location: str
    time_zone: str
    contact_name: str
    contact_email: str
    technician_id: int | None
    equipment: str
    is_main_hall: bool
    venue_id: int | None


class MemberOut(Out):
    name: str
    position: str
    role: str
    language: str
    precedence: int
    user_id: int | None


class DelegationOut(Out):
    id: int
    country: str
    organisation: str
    is_host: bool
    precedence: int
    site_id: int | None
    members: list[MemberOut]


class InterpreterOut(Out):
    id: int
    user_id: int | None
    interpreter_name: str
    target_language: str
    source_languages: list[str]
    shift_starts_at: dt.datetime | None
    shift_ends_at: dt.datetime | None


class ConferenceSummary(Out):
    id: int
    slug: str
    title: str
    kind: str
    status: str
    time_zone: str
    starts_at: dt.datetime
    ends_at: dt.datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_statuses(self) -> list[str]:
        """The statuses this conference may go to next (``POST …/status``)."""
        return [s.value for s in next_statuses(ConferenceStatus(self.status))]


class ConferenceOut(ConferenceSummary):
    organiser_id: int | None
    description: str
    translations: dict[str, Any]
    languages: list[LanguageOut]
    sessions: list[SessionOut]
    sites: list[SiteOut]
    delegations: list[DelegationOut]
    interpreters: list[InterpreterOut]
