"""The legal hold's JSON and form shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from server.archive.hold import MAX_REASON


class HoldIn(BaseModel):
    hold: bool = Field(description="true puts the conference on legal hold, false lifts it")
    reason: str = Field(max_length=MAX_REASON, description="why (required both ways)")


class HoldForm(BaseModel):
    hold: Literal["on", "off"]
    reason: str = Field(max_length=MAX_REASON)


class HoldOut(BaseModel):
    conference_id: int
    legal_hold: bool
    reason: str
    by: str
    at: dt.datetime | None
