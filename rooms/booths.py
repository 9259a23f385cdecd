"""Interpretation booths: who is on air in each language, handovers, and what everyone hears.

Pure logic, no media: the room asks it what a listener of a language should hear (the booth's
on-air interpreter, or the floor when the booth is silent or switched out) and what a booth's
interpreters should hear (the floor, or another booth as relay when the floor language is not
one they work from). Every change is returned as events for the room to report and store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Event = tuple[str, dict[str, Any]]


class InterpretationError(Exception):
    """A booth action that is not allowed now; ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BoothInfo:
    language: str  # the booth's target language
    works_from: frozenset[str]  # the languages its interpreters interpret from
    interpreters: tuple[str, ...]  # who may work in it (1 to 3)
    video: bool = False  # a sign-language booth
    names: tuple[str, ...] = ()  # the interpreters' names, in the same order

    def name_of(self, interpreter: str) -> str:
        index = self.interpreters.index(interpreter)
        return self.names[index] if index < len(self.names) else interpreter


@dataclass
class Booth:
    info: BoothInfo
    on_air: str | None = None
    handover_to: str | None = None  # the partner who asked to take over
    present: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Heard:
    """What someone hears: the floor, or a booth's channel (``language``)."""

    kind: str  # "floor" or "booth"
    language: str | None = None
    interpreter: str | None = None


FLOOR = Heard("floor")
SOURCE_CHOICES = ("auto", "floor")  # or a booth's language: relay from that booth


class Interpretation:
    def __init__(self, booths: Mapping[str, BoothInfo], floor_language: str | None = None) -> None:
        _check_infos(booths)
        self.booths = {language: Booth(info) for language, info in booths.items()}
        self.floor_language = floor_language
        self.sources: dict[str, str] = {}  # interpreter → "floor" or a relay booth ("auto": absent)

    def update_booths(self, booths: Mapping[str, BoothInfo]) -> list[Event]:
        """The conference's booths changed while the room is open (an interpreter assigned or
        unassigned, a language added or dropped). Booths that remain keep their state for the
        interpreters still in them; an unassigned interpreter on air goes off air."""
        _check_infos(booths)
        events: list[Event] = []

        def unassigned(language: str, interpreter: str) -> None:
            data = {"language": language, "interpreter": interpreter, "reason": "unassigned"}
            events.append(("booth.off_air", data))

        for language in [known for known in self.booths if known not in booths]:
            dropped = self.booths.pop(language)
            if dropped.on_air is not None:
                unassigned(language, dropped.on_air)
        for language, info in booths.items():
            booth = self.booths.setdefault(language, Booth(info))
            booth.info = info
            booth.present &= set(info.interpreters)
            if booth.handover_to is not None and booth.handover_to not in info.interpreters:
                booth.handover_to = None
            if booth.on_air is not None and booth.on_air not in info.interpreters:
                unassigned(language, booth.on_air)
                booth.on_air = booth.handover_to = None
        staffed = {i for b in self.booths.values() for i in b.info.interpreters}
        self.sources = {
            who: source
            for who, source in self.sources.items()
            if who in staffed and (source == "floor" or source in self.booths)
        }
        return events

    # --- interpreters -------------------------------------------------------------------------

    def booth(self, language: str) -> Booth:
        try:
            return self.booths[language]
        except KeyError:
            raise InterpretationError("no_booth", f"there is no {language} booth") from None

    def _check(self, interpreter: str, language: str) -> Booth:
        booth = self.booth(language)
        if interpreter not in booth.info.interpreters:
            raise InterpretationError(
                "not_in_booth", f"only the {language} booth's interpreters may work in it"
            )
        return booth

    def go_on_air(self, interpreter: str, language: str) -> list[Event]:
        booth = self._check(interpreter, language)
        if booth.on_air == interpreter:
            return []
        if booth.on_air is not None:
            raise InterpretationError(
                "partner_on_air", "your partner is on air: ask for a handover"
            )
        booth.on_air = interpreter
        return [("booth.on_air", {"language": language, "interpreter": interpreter})]

    def go_off_air(
        self, interpreter: str, language: str, reason: str = "interpreter"
    ) -> list[Event]:
        booth = self._check(interpreter, language)
        events: list[Event] = []
        if booth.handover_to == interpreter:  # a partner who asked, then went away
            booth.handover_to = None
            events.append(("booth.handover_withdrawn", {"language": language, "to": interpreter}))
        if booth.on_air != interpreter:
            return events
        booth.on_air = None
        booth.handover_to = None
        data = {"language": language, "interpreter": interpreter, "reason": reason}
        return [*events, ("booth.off_air", data)]

    def set_present(self, interpreter: str, language: str, present: bool) -> list[Event]:
        """An interpreter arrives in or leaves the booth; leaving takes them off air."""
        booth = self._check(interpreter, language)
        if present == (interpreter in booth.present):
            return []
        events: list[Event] = []
        if present:
            booth.present.add(interpreter)
        else:
            booth.present.discard(interpreter)
            events += self.go_off_air(interpreter, language, reason="disconnected")
        data = {"language": language, "interpreter": interpreter, "present": present}
        return [("booth.presence", data), *events]

    def choose_source(self, interpreter: str, language: str, source: str) -> list[Event]:
        """What the interpreter hears: "auto", "floor", or a booth's language (relay)."""
        self._check(interpreter, language)
        if source == language:
            raise InterpretationError("own_booth", "a booth cannot relay from itself")
        if source not in SOURCE_CHOICES:
            self.booth(source)  # raises no_booth
        if source == "auto":
            self.sources.pop(interpreter, None)
        else:
            self.sources[interpreter] = source
        data = {"language": language, "interpreter": interpreter, "source": source}
        return [("booth.source", data)]

    def request_handover(self, interpreter: str, language: str) -> list[Event]:
        booth = self._check(interpreter, language)
        if booth.on_air is None:
            raise InterpretationError("nobody_on_air", "nobody is on air: go on air directly")
        if booth.on_air == interpreter:
            raise InterpretationError("already_on_air", "you are already on air")
        booth.handover_to = interpreter
        return [
            (
                "booth.handover_requested",
                {"language": language, "from": booth.on_air, "to": interpreter},
            )
        ]

    def accept_handover(self, interpreter: str, language: str) -> list[Event]:
        """The on-air interpreter hands over: one switch, never both live, never a gap."""
        booth = self._check(interpreter, language)
        if booth.on_air != interpreter:
            raise InterpretationError("not_on_air", "only the interpreter on air can hand over")
        if booth.handover_to is None:
            raise InterpretationError("no_request", "your partner has not asked to take over")
        partner, booth.handover_to = booth.handover_to, None
        booth.on_air = partner
        return [("booth.handover", {"language": language, "from": interpreter, "to": partner})]

    # --- the floor language -------------------------------------------------------------------

    def set_floor_language(self, language: str | None, by: str = "chair") -> list[Event]:
        if language == self.floor_language:
            return []
        self.floor_language = language
        events: list[Event] = [("floor.language", {"language": language, "by": by})]
        for target in self.booths:
            events.append(("booth.route", {"language": target, **self._route(target)}))
        return events

    def _route(self, language: str) -> dict[str, Any]:
        source = self.booth_hears(language)
        return {
            "switched_out": self.switched_out(language),
            "source": source.kind,
            "relay_from": source.language,
        }

    def switched_out(self, language: str) -> bool:
        """Listeners of the floor's own language hear the floor directly."""
        return language == self.floor_language

    # --- who hears what -----------------------------------------------------------------------

    def listener_hears(self, language: str | None) -> Heard:
        """What a listener who chose ``language`` hears on the interpretation channel."""
        if language is None or language not in self.booths or self.switched_out(language):
            return FLOOR
        booth = self.booths[language]
        if booth.on_air is None:
            return FLOOR  # "no interpretation right now"
        return Heard("booth", language, booth.on_air)

    def booth_hears(self, language: str) -> Heard:
        """What the booth's interpreters hear: the floor, or a booth that can relay it."""
        booth = self.booth(language)
        floor = self.floor_language
        if floor is None or floor in booth.info.works_from or floor == language:
            return FLOOR  # (a switched-out booth listens to the floor in its own language)
        for other in self.booths.values():
            if (
                other.info.language in booth.info.works_from
                and floor in other.info.works_from
                and other.on_air is not None
                and other.info.language != language
            ):
                return Heard("booth", other.info.language, other.on_air)
        return FLOOR  # no relay available: the floor is better than silence

    def interpreter_hears(self, interpreter: str, language: str) -> Heard:
        """The booth's choice ("auto"), or the interpreter's own: the floor or a relay booth."""
        chosen = self.sources.get(interpreter)
        if chosen is None:
            return self.booth_hears(language)
        if chosen == "floor":
            return FLOOR
        relay = self.booths[chosen]
        if relay.on_air is None or self.switched_out(chosen):
            return FLOOR  # nobody to relay from: the floor is better than silence
        return Heard("booth", chosen, relay.on_air)

    def snapshot(self, listeners: Mapping[str, int] | None = None) -> dict[str, Any]:
        counts = listeners or {}
        return {
            "floor_language": self.floor_language,
            "booths": [
                {
                    "language": b.info.language,
                    "works_from": sorted(b.info.works_from),
                    "video": b.info.video,
                    "on_air": b.on_air,
                    "handover_to": b.handover_to,
                    "switched_out": self.switched_out(b.info.language),
                    "hears": self.booth_hears(b.info.language).language or "floor",
                    "interpreters": [
                        {"id": i, "name": b.info.name_of(i), "present": i in b.present}
                        for i in b.info.interpreters
                    ],
                    "listeners": counts.get(b.info.language, 0),
                }
                for b in self.booths.values()
            ],
        }


def _check_infos(booths: Mapping[str, BoothInfo]) -> None:
    for language, info in booths.items():
        if language != info.language:
            raise ValueError(f"booth {language} is declared for {info.language}")
        if not 1 <= len(info.interpreters) <= 3:
            raise ValueError(f"booth {language} needs 1 to 3 interpreters")
