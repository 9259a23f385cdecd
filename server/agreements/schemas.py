"""Request bodies of the agreements API (pydantic): what the register and the signing accept."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.fields import AccountEmail, Amount, RecordId
from server.i18n_strings import N_
from server.models import AgreementKind
from server.sent import Sent, Shape

Kind = Literal["mou", "aid", "other"]
assert set(Kind.__args__) == {k.value for k in AgreementKind}  # type: ignore[attr-defined]


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    delegation_id: RecordId | None = None


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    donor: str = Field(default="", max_length=300)
    programme: str = Field(default="", max_length=300)
    amount: Amount | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    period_starts_on: dt.date | None = None
    period_ends_on: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _Terms:
        if (self.amount is None) != (self.currency is None):
            raise ValueError(N_("give the amount and its currency together (e.g. 25000000000 VND)"))
        starts, ends = self.period_starts_on, self.period_ends_on
        if starts and ends and ends < starts:
            raise ValueError(N_("the period ends before it starts"))
        return self


class AgreementIn(_Terms):
    title: str = Field(min_length=1, max_length=300)
    kind: Kind = "other"
    parties: list[PartyIn] = Field(min_length=1, max_length=20)

    @field_validator("title")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("the title is empty"))
        return value.strip()


class AgreementPatch(_Terms):
    """Every field of the agreement but its parties; what is sent replaces what was there."""

    title: str = Field(min_length=1, max_length=300)
    kind: Kind = "other"


class SignatoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: RecordId
    email: AccountEmail
    site_id: RecordId | None = None
    name: str = Field(default="", max_length=200)
    position: str = Field(default="", max_length=300)


class OpenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreement_id: RecordId


class SignIn(BaseModel):
    """A signatory's confirmation: their password again, or the code mailed to them."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["password", "code"]
    secret: str = Field(min_length=1, max_length=200)


class VersionOut(Shape):
    """One language version of the agreement being signed."""

    language: str
    sha256: str
    size: int


class SignatoryOut(Shape):
    signatory_id: int
    name: str
    position: str
    party: str
    site_id: int | None
    site: str | None  # the site's name
    signed: bool
    signed_at: str | None  # ISO-8601 UTC


class SigningState(Sent):
    """``signing.state``: an agreement's signing, to everyone in the room (and the signing
    API's answer)."""

    event: ClassVar[str] = "signing.state"

    agreement_id: int
    conference_id: int
    title: str
    status: Literal["open", "signed"]
    versions: list[VersionOut]
    signatories: list[SignatoryOut]
    signed: int
    total: int
    complete: bool
