"""JSON shapes of invitations."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from server.fields import RecordId
from server.invitations.operations import DEFAULT_HOURS, MAX_HOURS
from server.models import Role


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    site_id: RecordId
    role: Role = Role.DELEGATE
    valid_hours: int = Field(default=DEFAULT_HOURS, ge=1, le=MAX_HOURS)
    label: str = Field(default="", max_length=200)


class InvitationForm(InvitationCreate):
    """The conference page's form: the same, and whether to e-mail the link to the site."""

    email_contact: bool = False


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conference_id: int
    site_id: int
    role: Role
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class NewInvitationOut(InvitationOut):
    url: str = Field(description="The link to send to the site; shown once")
