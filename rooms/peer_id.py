"""The names a room gives its peer connections and listeners.

A room keys everything by one string per peer, as it goes over the wire and into the
recording's manifest: a site by its number (``"12"``), a chair or technician console by its
socket (``"console:<sid>"``), an interpreter by their user (``"interpreter:5"``), the recorder
by its recording and part (``"recorder:3:1"``). ``PeerId`` is that string with the means to
make and read it, so nothing else spells a prefix or tells a site by ``isdigit()``.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["site", "console", "interpreter", "recorder", "other"]
PREFIXES: dict[str, Kind] = {
    "console": "console",
    "interpreter": "interpreter",
    "recorder": "recorder",
}


class PeerId(str):
    """A peer's name in its room (a ``str``: it keys the room's dictionaries as it is)."""

    __slots__ = ()

    @classmethod
    def site(cls, site_id: int) -> PeerId:
        return cls(str(site_id))

    @classmethod
    def console(cls, socket_id: str) -> PeerId:
        return cls(f"console:{socket_id}")

    @classmethod
    def interpreter(cls, user_id: int | None) -> PeerId:
        return cls(f"interpreter:{user_id}")

    @classmethod
    def recorder(cls, recording_id: int, part: int) -> PeerId:
        return cls(f"recorder:{recording_id}:{part}")

    @property
    def kind(self) -> Kind:
        if self.isascii() and self.isdigit():
            return "site"
        return PREFIXES.get(self.partition(":")[0], "other")

    @property
    def site_id(self) -> int | None:
        """The site's number, for a site's peer; else None."""
        return int(self) if self.kind == "site" else None


def site_number(peer: str | None) -> int | None:
    """The site's number when ``peer`` names a site (None, a console...: None)."""
    return None if peer is None else PeerId(peer).site_id
