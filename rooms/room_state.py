"""What people would lose if the room's process stopped, as plain data, and back.

``capture`` takes what the chair, the sites and the booths decided (admissions and the lobby's
order, the floor: holder, start of the turn, its limit and the queue; mutes and the lock; each
booth's on-air interpreter, the floor language and each site's chosen language). ``restore``
puts it into a new room of the same conference, whose sites then come back admitted, with the
same floor holder and the same remaining speaking time. Connections are not part of it: peers
reconnect by themselves.
"""

from __future__ import annotations

from typing import Any

from rooms.floor import FloorRequest
from rooms.room import BridgeRoom

VERSION = 1
#: The room event a reopened room starts with; its site is the floor holder whose turn goes on.
REOPENED = "room.reopened"
KEPT_ADMISSIONS = ("lobby", "admitted", "refused", "removed")


def capture(room: BridgeRoom) -> dict[str, Any]:
    floor = room.floor
    booths = room.channels.interpretation
    return {
        "version": VERSION,
        "locked": room.locked,
        "sites": {
            site_id: {"admission": site.admission, "muted": site.muted}
            for site_id, site in room.sites.items()
            if site.admission in KEPT_ADMISSIONS or site.muted
        },
        "floor": {
            "holder": floor.holder,
            "granted_at": floor.granted_at,
            "limit_seconds": floor.limit_seconds,
            "queue": [[r.site_id, r.precedence, r.requested_at] for r in floor._queue],
        },
        "presenter": room.presenter,
        "floor_language": booths.floor_language,
        "on_air": {
            language: booth.on_air for language, booth in booths.booths.items() if booth.on_air
        },
        "listening": {
            listener: language
            for listener, language in room.channels.languages.items()
            if listener in room.sites and language is not None
        },
    }


def restore(room: BridgeRoom, state: dict[str, Any]) -> None:
    """Apply a captured state to a new room; what no longer fits the conference (a deleted
    site, an interpreter no longer in the booth) is left out."""
    if state.get("version") != VERSION:
        return
    room.locked = bool(state.get("locked"))
    for site_id, kept in (state.get("sites") or {}).items():
        site = room.sites.get(site_id)
        if site is None:
            continue
        if kept.get("admission") in KEPT_ADMISSIONS:
            site.admission = kept["admission"]
        site.muted = bool(kept.get("muted"))
    floor = state.get("floor") or {}
    holder = floor.get("holder")
    if holder in room.sites:
        room.floor.holder = holder
        room.floor.granted_at = floor.get("granted_at")
        room.floor.limit_seconds = floor.get("limit_seconds")
    room.floor._queue = [
        FloorRequest(str(site_id), int(precedence), float(at))
        for site_id, precedence, at in floor.get("queue") or []
        if site_id in room.sites
    ]
    presenter = state.get("presenter")
    room.presenter = presenter if presenter in room.sites else None
    booths = room.channels.interpretation
    language = state.get("floor_language")
    booths.floor_language = language if isinstance(language, str) else None
    for language, interpreter in (state.get("on_air") or {}).items():
        booth = booths.booths.get(language)
        if booth is not None and interpreter in booth.info.interpreters:
            booth.on_air = interpreter
    for site_id, language in (state.get("listening") or {}).items():
        if site_id in room.sites and language in booths.booths:
            room.channels.languages[site_id] = language
