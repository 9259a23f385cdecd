"""JSON shapes of the permit API; they validate requests and generate the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from babel.numbers import is_currency
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.countries import COUNTRIES
from server.fields import Amount2, Strict, refused_value
from server.i18n_strings import N_
from server.models import ConferenceKind, ConsultationAnswer, DecidingLevel, PermitStatus

MAX_PARTICIPANT_ROWS = 50
# The pages show these with _() at run time (statuses and steps with spaces for underscores,
# the report's periods), so they are marked here for extraction.
LABELS = (
    N_("draft"),
    N_("created"),
    N_("submitted"),
    N_("changes requested"),
    N_("resubmitted"),
    N_("approved"),
    N_("rejected"),
    N_("withdrawn"),
    N_("month"),
    N_("quarter"),
    N_("year"),
    N_("reopened"),
    N_("asked"),
    N_("answered"),
    N_("overdue"),
    N_("agree"),
    N_("disagree"),
    N_("remarks"),
)
Topic = Literal[
    "sovereignty",
    "borders",
    "security",
    "defence",
    "ethnicity",
    "religion",
    "human_rights",
    "state_secrets",
]


class Participants(Strict):
    """Foreign participants from one organisation."""

    country: str = Field(description="ISO 3166-1 alpha-2", examples=["LA"])
    organisation: str = Field(min_length=1, max_length=300)
    number: int = Field(ge=1, le=100_000, description="How many people")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.upper()
        if code not in COUNTRIES:
            raise refused_value(
                N_("%(value)s is not an ISO 3166-1 alpha-2 country code"), value=repr(value)
            )
        return code


class ApplicationFields(Strict):
    """Everything an application says about the conference."""

    purpose: str = Field(min_length=1, max_length=4000)
    format: ConferenceKind
    starts_on: dt.date
    ends_on: dt.date
    participants: list[Participants] = Field(default_factory=list, max_length=MAX_PARTICIPANT_ROWS)
    content: str = Field(min_length=1, max_length=20_000, description="Programme and topics")
    funding_source: str = Field(min_length=1, max_length=300)
    funding_amount: Amount2
    funding_currency: str = Field(
        pattern=r"^[A-Za-z]{3}$", description="ISO 4217", examples=["VND", "USD"]
    )
    ministerial_participants: bool = Field(
        default=False, description="Foreign ministers or heads of foreign delegations take part"
    )
    sensitive_topics: list[Topic] = Field(
        default_factory=list, max_length=8, description="Topics that the Prime Minister decides"
    )
    deciding_level: DecidingLevel | None = Field(
        default=None,
        description="Who decides, as the organiser chose it; none: the suggested level "
        "(confirmed by whoever submits)",
    )

    @field_validator("funding_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.upper()
        if len(code) != 3 or not is_currency(code):
            raise refused_value(N_("%(value)s is not an ISO 4217 currency code"), value=repr(value))
        return code

    @model_validator(mode="after")
    def _dates_in_order(self) -> ApplicationFields:
        if self.ends_on < self.starts_on:
            raise refused_value(
                N_("the conference ends (%(end)s) before it starts (%(start)s)"),
                end=str(self.ends_on),
                start=str(self.starts_on),
            )
        return self


class ApplicationPatch(Strict):
    """Change some fields of a draft (or of an application sent back for changes)."""

    purpose: str | None = Field(default=None, min_length=1, max_length=4000)
    format: ConferenceKind | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    participants: list[Participants] | None = Field(
        default=None, max_length=MAX_PARTICIPANT_ROWS, description="Replaces the whole list"
    )
    content: str | None = Field(default=None, min_length=1, max_length=20_000)
    funding_source: str | None = Field(default=None, min_length=1, max_length=300)
    funding_amount: Amount2 | None = None
    funding_currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    ministerial_participants: bool | None = None
    sensitive_topics: list[Topic] | None = Field(default=None, max_length=8)
    deciding_level: DecidingLevel | None = None


class StepComment(Strict):
    comment: str = Field(default="", max_length=4000)


class SubmitIn(StepComment):
    submit_late: bool = Field(
        default=False,
        description="Submit although the lead time of Decision 06/2020/QĐ-TTg is missed "
        "(recorded); without it such a submission is refused (422 lead_time_missed)",
    )


class OpinionsAsked(Strict):
    agencies: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="The agencies asked; none: every agency of the settings",
    )


class OpinionIn(Strict):
    answer: ConsultationAnswer
    remarks: str = Field(
        default="", max_length=4000, description="Required when disagreeing or with remarks"
    )


Outcome = Literal["approve", "reject", "request_changes"]


class DecisionIn(Strict):
    outcome: Outcome
    comment: str = Field(
        default="",
        max_length=4000,
        description="Required when rejecting or asking for changes: the reasons",
    )


class ParticipantsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    country: str
    organisation: str
    number: int


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    action: str
    from_status: PermitStatus | None
    to_status: PermitStatus
    actor: str
    comment: str


class ConsultationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agency: str
    asked_at: dt.datetime
    due_on: dt.date
    answered_at: dt.datetime | None
    answer: ConsultationAnswer | None
    remarks: str
    state: Literal["asked", "answered", "overdue"] = "asked"


class LeadOut(BaseModel):
    """The lead time of Decision 06/2020/QĐ-TTg against the conference's first day."""

    level: DecidingLevel = Field(description="Confirmed at submission; before it, as chosen")
    confirmed: bool
    lead_days: int = Field(description="Calendar days the application needs before the start")
    latest_on: dt.date = Field(description="The last day for it to reach the authority")
    days_before_start: int = Field(description="From its receipt (before it, from today)")
    missed: bool
    at_risk: bool = Field(description="Not submitted, and the last day is a week away or less")
    submitted_late: bool = Field(description="Submitted late, acknowledged by the submitter")


class ClockOut(BaseModel):
    """Where the application stands against the statutory deadline (working days)."""

    deadline_working_days: int
    received_on: dt.date | None = Field(description="Date of the (re)submission that counts")
    due_on: dt.date | None
    working_days_left: int | None = Field(description="Negative when overdue; none when stopped")
    overdue: bool
    processing_working_days: int | None = Field(description="Once decided")
    decided_on_time: bool | None
    due_if_submitted_today: dt.date | None = Field(
        default=None, description="While not submitted: when the decision would be due"
    )
    due_after_start: bool = Field(
        default=False,
        description="Undecided, and the decision is (or would be) due on or after the "
        "conference's first day: it may come too late",
    )
    holidays_unknown: int | None = Field(
        default=None,
        description="A year the count reaches whose public holidays are not known: the "
        "working days were not counted",
    )


class ApplicationSummary(BaseModel):
    id: int
    conference_id: int
    conference_title: str
    status: PermitStatus
    applicant: str
    starts_on: dt.date
    ends_on: dt.date
    created_at: dt.datetime
    clock: ClockOut
    lead: LeadOut
    previous_id: int | None = Field(
        default=None, description="A re-approval after a material change: the earlier round"
    )


class ApplicationOut(ApplicationSummary):
    purpose: str
    format: ConferenceKind
    participants: list[ParticipantsOut]
    content: str
    funding_source: str
    funding_amount: Decimal
    funding_currency: str
    decided_at: dt.datetime | None
    decision_number: str | None
    attachments: list[AttachmentOut]
    steps: list[StepOut]
    ministerial_participants: bool
    sensitive_topics: list[str]
    deciding_level: DecidingLevel | None = Field(description="As chosen or confirmed")
    suggested_level: DecidingLevel
    suggestion_reasons: list[str]
    level_confirmed_at: dt.datetime | None
    consultations: list[ConsultationOut]


Period = Literal["month", "quarter", "year"]


class ReportRow(BaseModel):
    period: str = Field(examples=["2026-03", "2026-Q1", "2026"])
    submitted: int = Field(description="Applications first submitted in the period")
    decided: int = Field(description="Applications decided in the period")
    approved: int
    rejected: int
    median_working_days: float | None
    p90_working_days: float | None
    on_time_share: float | None = Field(description="Decided within the deadline, 0 to 1")
    change_vs_deadline: float | None = Field(
        description="(median - deadline) / deadline: -0.3 is 30% faster than the law asks"
    )


class ReportOut(BaseModel):
    period: Period
    start: dt.date
    end: dt.date
    deadline_working_days: int
    rows: list[ReportRow]
    total: ReportRow
