"""The room's roster: who each site is (``SiteInfo``), where it stands (``SiteState``: lobby,
admission, link, mute, its peer connection), and what the room reports (``RoomEvent``) or
refuses (``RoomError``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from rooms.site import SitePeer

Admission = Literal["absent", "lobby", "admitted", "refused", "removed", "left"]
Link = Literal["offline", "connected", "reconnecting"]


class RoomError(Exception):
    """An action the room refuses; ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SiteInfo:
    name: str
    precedence: int = 100
    main_hall: bool = False
    language: str | None = None  # the delegation's registered language: sets the floor's
    check: str | None = None  # its last pre-conference check: "passed", "failed" (None: none)


@dataclass
class RoomEvent:
    type: str
    site_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class SiteState:
    site_id: str
    info: SiteInfo
    admission: Admission = "absent"  # has not arrived (yet)
    link: Link = "offline"
    muted: bool = False
    peer: SitePeer | None = None
    # What it published on its last peer connection (None: none yet since it was admitted),
    # and how many connections it made since that were reconnections, not a change of what
    # it publishes (sharing a screen offers again on a new connection too).
    published: frozenset[str] | None = None
    reconnections: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "name": self.info.name,
            "main_hall": self.info.main_hall,
            "admission": self.admission,
            "link": self.link,
            "muted": self.muted,
            "check": self.info.check,
        }
