"""Payloads of the ``/room`` socket.io namespace (docs/signalling.md), validated on arrival."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.fields import RecordId


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Join(Payload):
    conference_id: RecordId
    as_: Literal["site", "console", "interpreter"] = Field(alias="as")
    site_id: RecordId | None = None
    language: str | None = Field(default=None, max_length=16)  # an interpreter's booth


class Offer(Payload):
    sdp: str = Field(min_length=10, max_length=200_000)
    layout: dict[str, str] = Field(max_length=128)


class Empty(Payload):
    pass


class SiteRef(Payload):
    site_id: RecordId


class Mute(Payload):
    site_id: RecordId
    muted: bool


class Lock(Payload):
    locked: bool


class FloorGrant(Payload):
    site_id: RecordId
    limit_seconds: int | None = Field(default=None, ge=10, le=3600)


class Present(Payload):
    site_id: RecordId | None


class Chat(Payload):
    text: str = Field(min_length=1, max_length=1000)


class Language(Payload):
    language: str | None = Field(max_length=16)


class Listening(Payload):
    language: str | None = Field(max_length=16)
    floor_level: int | None = Field(default=None, ge=0, le=100)  # % of floor under the booth


class BoothSource(Payload):
    source: str = Field(min_length=1, max_length=16)  # "auto", "floor" or a booth's language
