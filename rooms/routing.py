"""Who receives what in a bridge room: the routes computed from the room's state, applied by
switching slots (never by renegotiating).

Every receiver — a site's peer, a console, an interpreter, an in-process subscriber such as
the recorder — is routed by the same rules from its slots' names: nobody is sent their own
picture or voice, listener slots follow the listener's chosen language (``Channels``), grid
slots follow the console's grid order, and every other slot shows its route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from rooms.channels import LISTENER_SLOTS, Channels
from rooms.forwarding import Slot, Source
from rooms.quality import Downlink
from rooms.roster import SiteState

SITE_SLOTS = {
    "hall.video": "video",
    "hall.audio": "audio",
    "floor.video": "video",
    "floor.audio": "audio",
    "presentation.video": "video",
    "interpretation.audio": "audio",
    "sign.video": "video",
    "programme.video": "video",  # the floor holder's camera, else the main hall's
    "programme.audio": "audio",  # the floor voice: the holder's microphone, else the hall's
}
"""The slots a site (or a subscriber) may receive, and their kinds."""


class Receiver(Protocol):
    @property
    def site_id(self) -> str: ...

    @property
    def slots(self) -> Mapping[str, Slot[Any]]: ...

    @property
    def downlink(self) -> Downlink | None: ...  # None: always the full quality (the recorder)


def published(sites: Mapping[str, SiteState], site_id: str | None, name: str) -> Source | None:
    """What an admitted site publishes under ``name`` (a muted microphone: nothing)."""
    if site_id is None:
        return None
    site = sites.get(site_id)
    if site is None or site.peer is None or site.admission != "admitted":
        return None
    if name == "microphone" and site.muted:
        return None
    return site.peer.sources.get(name)


def main_hall(sites: Mapping[str, SiteState]) -> str | None:
    return next((s.site_id for s in sites.values() if s.info.main_hall), None)


def routes(
    sites: Mapping[str, SiteState], holder: str | None, presenter: str | None
) -> dict[str, Source | None]:
    """What each site slot shows now (before removing a receiver's own media)."""
    hall = main_hall(sites)
    return {
        "hall.video": published(sites, hall, "camera"),
        "hall.audio": published(sites, hall, "microphone"),
        "floor.video": published(sites, holder, "camera"),
        "floor.audio": published(sites, holder, "microphone"),
        "presentation.video": published(sites, presenter, "screen"),
        "programme.video": (published(sites, holder, "camera") or published(sites, hall, "camera")),
        "programme.audio": (
            published(sites, holder, "microphone") or published(sites, hall, "microphone")
        ),
    }


def grid_order(sites: Mapping[str, SiteState]) -> list[str]:
    """Admitted sites in the order consoles show them: main hall, then by precedence."""
    ordered = sorted(
        (s for s in sites.values() if s.admission == "admitted"),
        key=lambda s: (not s.info.main_hall, s.info.precedence, s.info.name),
    )
    return [s.site_id for s in ordered]


def grid(sites: Mapping[str, SiteState]) -> dict[str, Source | None]:
    return {
        f"grid.{index}.video": published(sites, site_id, "camera")
        for index, site_id in enumerate(grid_order(sites))
    }


def is_grid(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and parts[0] == "grid" and parts[1].isdigit() and parts[2] == "video"


def apply(
    receivers: Iterable[Receiver],
    shown: Mapping[str, Source | None],
    grid_sources: Mapping[str, Source | None],
    channels: Channels,
) -> None:
    """Switch every receiver's slots to what they should show now."""
    floor_voice = shown["programme.audio"]
    for receiver in receivers:
        for name, slot in receiver.slots.items():
            if is_grid(name):
                source = grid_sources.get(name)
            elif name in LISTENER_SLOTS or name == "source.audio":
                source = channels.slot_source(receiver.site_id, name, floor_voice)
            else:
                source = shown.get(name)
            if source is not None and source.site_id == receiver.site_id:
                source = None  # nobody is sent their own picture or voice
            elif receiver.downlink is not None and slot.kind == "video":
                source = receiver.downlink.choose(name, source)
            slot.switch(source)
