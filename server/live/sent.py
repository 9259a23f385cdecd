"""What the ``/room`` namespace sends its members (docs/signalling.md, "Server → client"): the
room's state and events, the notices to one site, chat, and the cluster's moves. The features
declare their own (``recording.state``, ``signing.state``, ``health.report``); the base and
the notices every namespace shares are in ``server/sent.py``."""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal

from pydantic import Field

from rooms.floor import Order
from rooms.peer_id import site_number
from rooms.roster import Admission, Link
from server.sent import Sent, Shape


class SiteRow(Shape):
    """A site in ``RoomState.sites``."""

    site_id: int
    name: str
    main_hall: bool
    admission: Admission
    link: Link
    muted: bool
    check: Literal["passed", "failed"] | None  # its last site check (None: never checked)


class Floor(Shape):
    holder: int | None
    granted_at: float | None
    limit_seconds: int | None
    queue: list[int]
    order: Order


class BoothInterpreter(Shape):
    id: str
    name: str
    present: bool


class Booth(Shape):
    """A booth in ``RoomState.interpretation``."""

    language: str
    works_from: list[str]
    video: bool
    on_air: str | None
    handover_to: str | None
    switched_out: bool
    hears: str
    interpreters: list[BoothInterpreter]
    listeners: int


class Interpretation(Shape):
    floor_language: str | None
    booths: list[Booth]


class RoomState(Sent):
    event: ClassVar[str] = "room.state"

    conference_id: int
    locked: bool
    sites: list[SiteRow]
    floor: Floor
    presenter: int | None
    speaker: int | None
    grid: list[int]
    server_time: float  # seconds since the epoch when the state was sent
    interpretation: Interpretation


def room_state(conference_id: int, snapshot: dict[str, Any]) -> RoomState:
    """The room's snapshot (``BridgeRoom.snapshot``) as members see it: site ids as numbers."""
    floor = dict(snapshot["floor"])
    floor["holder"] = site_number(floor["holder"])
    floor["queue"] = [site_number(s) for s in floor["queue"]]
    return RoomState.model_validate(
        {
            "conference_id": conference_id,
            "locked": snapshot["locked"],
            "sites": [{**s, "site_id": site_number(s["site_id"])} for s in snapshot["sites"]],
            "floor": floor,
            "presenter": site_number(snapshot["presenter"]),
            "speaker": site_number(snapshot["speaker"]),
            "grid": [site_number(s) for s in snapshot["grid"]],
            "server_time": time.time(),
            "interpretation": snapshot["interpretation"],
        }
    )


class RoomEventNotice(Sent):
    """One of the room's events (its ``type``, with the ``data`` that type carries)."""

    event: ClassVar[str] = "room.event"

    type: str
    site_id: int | None
    data: dict[str, Any]
    at: str  # ISO-8601 UTC


class SiteNotice(Sent):
    """A notice to one site's connections about itself."""

    site_id: int


class SiteAdmitted(SiteNotice):
    event: ClassVar[str] = "admitted"


class SiteRefused(SiteNotice):
    event: ClassVar[str] = "refused"


class SiteRemoved(SiteNotice):
    event: ClassVar[str] = "removed"


class SiteRejoin(SiteNotice):
    """Close the peer connection and offer again."""

    event: ClassVar[str] = "rejoin"


#: The notice a site is sent after the room's own event about it.
SITE_NOTICES: dict[str, type[SiteNotice]] = {
    "lobby.admitted": SiteAdmitted,
    "lobby.refused": SiteRefused,
    "site.removed": SiteRemoved,
}


class MediaSending(Sent):
    """Which of its camera's qualities (``camera``, ``camera.low``) nobody receives now."""

    event: ClassVar[str] = "media.sending"

    paused: list[str]


class ChatMessage(Sent):
    event: ClassVar[str] = "chat"

    from_: str = Field(alias="from")  # who wrote it
    site_id: int | None
    text: str
    at: str  # ISO-8601 UTC


class BoothChatMessage(Sent):
    """To the interpreters of one booth."""

    event: ClassVar[str] = "booth.chat"

    from_: str = Field(alias="from")  # who wrote it
    interpreter: str
    text: str
    at: str  # ISO-8601 UTC


class RoomMoving(Sent):
    """The room's node is stopping and handed the room to ``node``."""

    event: ClassVar[str] = "room.moving"

    node: str
    url: str


class ClusterNodes(Sent):
    """The public URLs of the cluster's live nodes."""

    event: ClassVar[str] = "cluster.nodes"

    nodes: list[str]
