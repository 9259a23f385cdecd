"""What the minutes' JSON API reads (the document itself is checked by ``Minutes.from_dict``,
which names the field path of any problem)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.fields import RecordId


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_revision: int = Field(ge=1, le=2**31 - 1, description="the revision the edit started from")
    document: dict[str, Any] = Field(description="the whole minutes (Minutes.to_dict form)")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    path: str | None = Field(default=None, max_length=300, description="e.g. items[1].decisions[0]")
    delegation_id: RecordId | None = Field(default=None, description="when in several delegations")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
