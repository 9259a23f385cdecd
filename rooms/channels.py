"""Interpretation channels in a room: interpreters' peers, listeners' languages, and the
sources that ``booths.Interpretation`` says each of them should hear."""

from __future__ import annotations

from rooms.booths import Heard, Interpretation, InterpretationError
from rooms.forwarding import Source
from rooms.site import SitePeer


class Channels:
    def __init__(self, interpretation: Interpretation) -> None:
        self.interpretation = interpretation
        self.interpreters: dict[str, tuple[str, SitePeer]] = {}  # id → (booth language, peer)
        self.languages: dict[str, str | None] = {}  # listener peer id → chosen language

    def choose(self, listener: str, language: str | None) -> None:
        if language is not None and language not in self.interpretation.booths:
            raise InterpretationError("no_booth", f"there is no {language} channel")
        self.languages[listener] = language

    def _voice(self, heard: Heard) -> Source | None:
        if heard.kind != "booth" or heard.interpreter is None:
            return None
        entry = self.interpreters.get(heard.interpreter)
        return entry[1].sources.get("microphone") if entry else None

    def listener_source(self, listener: str) -> Source | None:
        """The interpretation slot of a listener: the chosen booth's voice, or nothing."""
        return self._voice(self.interpretation.listener_hears(self.languages.get(listener)))

    def booth_source(self, interpreter: str, floor: Source | None) -> Source | None:
        """What an interpreter hears: the floor, or the relay booth's voice."""
        entry = self.interpreters.get(interpreter)
        if entry is None:
            return None
        heard = self.interpretation.booth_hears(entry[0])
        return floor if heard.kind == "floor" else self._voice(heard)

    def listeners(self, language: str) -> int:
        return sum(1 for chosen in self.languages.values() if chosen == language)
