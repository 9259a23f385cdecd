"""JSON shapes of conferences as the API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LanguageOut(Out):
    code: str
    is_floor: bool
    is_interpreted: bool


class SessionOut(Out):
    id: int
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    speakers: list[str]


class SiteOut(Out):
    id: int
    name: str
    location: str
    time_zone: str
    contact_name: str
    is_main_hall: bool


class MemberOut(Out):
    name: str
    position: str
    role: str
    language: str


class DelegationOut(Out):
    id: int
    country: str
    organisation: str
    is_host: bool
    precedence: int
    site_id: int | None
    members: list[MemberOut]


class InterpreterOut(Out):
    interpreter_name: str
    target_language: str
    source_languages: list[str]


class ConferenceSummary(Out):
    id: int
    slug: str
    title: str
    kind: str
    status: str
    time_zone: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class ConferenceOut(ConferenceSummary):
    description: str
    translations: dict[str, Any]
    languages: list[LanguageOut]
    sessions: list[SessionOut]
    sites: list[SiteOut]
    delegations: list[DelegationOut]
    interpreters: list[InterpreterOut]
