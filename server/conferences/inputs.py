"""What the scheduling API accepts: request bodies, validated by pydantic before any operation.

Times are ISO 8601, either with an offset (an instant) or without one (a wall-clock time in
the given ``time_zone``, else the conference's): see ``timing``. Checks that need the database
(the zone exists, the session is inside its conference, the site belongs to it...) are the
operations' own and name the field the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.fields import EmailOrEmpty, RecordId, TimeZone
from server.models import ConferenceKind, ConferenceStatus

LanguageCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=16
    ),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Zone = TimeZone
ENDS = "Must be after starts_at"
Text = Annotated[str, Field(max_length=20_000)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TranslationIn(In):
    title: Annotated[str, Field(max_length=300)] | None = None
    description: Text | None = None


class LanguageIn(In):
    code: LanguageCode
    is_floor: bool = True
    is_interpreted: bool = True
    is_sign_language: bool = False


class ConferenceCreate(In):
    title: Title
    description: Text = ""
    translations: dict[LanguageCode, TranslationIn] = Field(
        default_factory=dict, description="Title and description per language code"
    )
    kind: ConferenceKind = ConferenceKind.ONLINE
    time_zone: Zone
    starts_at: dt.datetime
    ends_at: dt.datetime = Field(description=ENDS)
    languages: list[LanguageIn] = Field(default_factory=list, max_length=30)


class ConferenceUpdate(In):
    """Only the fields given change; ``languages`` replaces the whole list."""

    title: Title | None = None
    description: Text | None = None
    translations: dict[LanguageCode, TranslationIn] | None = None
    kind: ConferenceKind | None = None
    time_zone: Zone | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = Field(default=None, description=ENDS)
    languages: list[LanguageIn] | None = Field(default=None, max_length=30)


class StatusChange(In):
    status: ConferenceStatus
    comment: Annotated[str, Field(max_length=2000)] = ""


class SessionCreate(In):
    title: Title
    description: Text = ""
    starts_at: dt.datetime
    ends_at: dt.datetime = Field(description=ENDS + ", within the conference")
    time_zone: Zone | None = Field(default=None, description="Default: the conference's zone")
    speakers: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=100
    )
    site_ids: list[RecordId] = Field(
        default_factory=list, max_length=500, description="Empty: every site takes part"
    )
    interpreted_languages: list[LanguageCode] = Field(
        default_factory=list, description="Booths used; empty: every booth"
    )
    chair_id: RecordId | None = None
    rrule: (
        Annotated[str, Field(max_length=500, examples=["FREQ=WEEKLY;BYDAY=TU;COUNT=10"])] | None
    ) = None
    exdates: list[dt.datetime] = Field(default_factory=list, max_length=520)


class SessionUpdate(In):
    """Only the fields given change. With ``?occurrence=``, only that occurrence changes
    (``rrule`` and ``exdates`` belong to the series)."""

    title: Title | None = None
    description: Text | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = Field(default=None, description=ENDS)
    time_zone: Zone | None = None
    speakers: list[Annotated[str, Field(max_length=300)]] | None = Field(
        default=None, max_length=100
    )
    site_ids: list[RecordId] | None = Field(default=None, max_length=500)
    interpreted_languages: list[LanguageCode] | None = None
    chair_id: RecordId | None = None
    rrule: Annotated[str, Field(max_length=500)] | None = None
    exdates: list[dt.datetime] | None = Field(default=None, max_length=520)


class SiteIn(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    location: Annotated[str, Field(max_length=300)] = ""
    time_zone: Zone
    contact_name: Annotated[str, Field(max_length=200)] = ""
    contact_email: EmailOrEmpty = ""
    technician_id: RecordId | None = None
    equipment: Text = ""
    is_main_hall: bool = False
    venue_id: RecordId | None = Field(
        default=None, description="A hall already used by another conference; default: a new one"
    )


class SiteUpdate(In):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    location: Annotated[str, Field(max_length=300)] | None = None
    time_zone: Zone | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    contact_email: EmailOrEmpty | None = None
    technician_id: RecordId | None = None
    equipment: Text | None = None
    is_main_hall: bool | None = None
    venue_id: RecordId | None = None


class DelegationMemberIn(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    position: Annotated[str, Field(max_length=300)] = ""
    role: Annotated[str, Field(pattern=r"^(head|deputy|member|adviser|interpreter|staff)$")] = (
        "member"
    )
    language: LanguageCode | None = None
    user_id: RecordId | None = None


class DelegationIn(In):
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
    organisation: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
    ]
    is_host: bool = False
    precedence: Annotated[int, Field(ge=0, le=10_000)] | None = Field(
        default=None, description="Seating order, 0 first; default: after the others"
    )
    site_id: RecordId | None = None
    members: list[DelegationMemberIn] = Field(
        default_factory=list, max_length=200, description="In precedence order"
    )


class DelegationUpdate(In):
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    organisation: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
        | None
    ) = None
    is_host: bool | None = None
    precedence: Annotated[int, Field(ge=0, le=10_000)] | None = None
    site_id: RecordId | None = None
    members: list[DelegationMemberIn] | None = Field(default=None, max_length=200)


class InterpreterIn(In):
    user_id: RecordId | None = None
    interpreter_name: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Default: the user's name"
    )
    target_language: LanguageCode
    source_languages: list[LanguageCode] = Field(default_factory=list, max_length=20)
    shift_starts_at: dt.datetime | None = None
    shift_ends_at: dt.datetime | None = Field(default=None, description="After shift_starts_at")
    time_zone: Zone | None = Field(
        default=None, description="Zone of naive shift times; default: the conference's"
    )


class InterpreterUpdate(In):
    user_id: RecordId | None = None
    interpreter_name: Annotated[str, Field(max_length=200)] | None = None
    target_language: LanguageCode | None = None
    source_languages: list[LanguageCode] | None = Field(default=None, max_length=20)
    shift_starts_at: dt.datetime | None = None
    shift_ends_at: dt.datetime | None = None
    time_zone: Zone | None = None
