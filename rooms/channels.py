"""Interpretation channels in a room: interpreters' peers, listeners' languages, and the
sources that ``booths.Interpretation`` says each of them should hear.

The rules live in ``booths``; this module holds the media side: each interpreter's peer
connection (one per interpreter, replaced when they reconnect) and which forwarding source each
interpretation slot should carry now.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rooms.booths import FLOOR, Heard, Interpretation, InterpretationError
from rooms.forwarding import Source
from rooms.site import NegotiationError, SitePeer

INTERPRETER_PUBLISHES = {"microphone", "camera"}
INTERPRETER_RECEIVES = {"source.audio", "hall.video", "floor.video"}
LISTENER_SLOTS = {"interpretation.audio", "sign.video"}
LEVEL_FRESH = 1.0  # seconds: an older audio level counts as silence


class Channels:
    def __init__(self, interpretation: Interpretation) -> None:
        self.interpretation = interpretation
        self.interpreters: dict[str, tuple[str, SitePeer]] = {}  # id → (booth language, peer)
        self.languages: dict[str, str | None] = {}  # listener peer id → chosen language
        self.unlisted: set[str] = set()  # listeners not counted (the recorder's subscribers)

    # --- interpreters' connections -------------------------------------------------------------

    async def connect(
        self,
        interpreter: str,
        language: str,
        offer_sdp: str,
        layout: Mapping[str, str],
        ice_addresses: Sequence[str],
    ) -> tuple[str, SitePeer]:
        """Answer an interpreter's offer; their previous connection, if any, is closed."""
        booth = self.interpretation.booth(language)
        if interpreter not in booth.info.interpreters:
            raise InterpretationError(
                "not_in_booth", f"only the {language} booth's interpreters work in it"
            )
        allowed = INTERPRETER_RECEIVES | INTERPRETER_PUBLISHES
        wrong = [n for n in layout.values() if n not in allowed]
        if wrong:
            raise InterpretationError("bad_layout", f"an interpreter cannot use {wrong[0]!r}")
        if "camera" in layout.values() and not booth.info.video:
            raise InterpretationError("bad_layout", "only a sign-language booth publishes video")
        peer = SitePeer(interpreter, ice_addresses=ice_addresses, on_closed=self._closed)
        try:
            answer = await peer.answer(offer_sdp, layout)
        except NegotiationError as exc:
            await peer.close()
            raise InterpretationError("bad_offer", str(exc)) from None
        old = self.interpreters.get(interpreter)
        self.interpreters[interpreter] = (language, peer)
        if old is not None:
            await old[1].close()
        return answer, peer

    async def _closed(self, peer: SitePeer) -> None:
        entry = self.interpreters.get(peer.site_id)
        if entry is not None and entry[1] is peer:
            del self.interpreters[peer.site_id]

    def peers(self) -> list[SitePeer]:
        return [peer for _, peer in self.interpreters.values()]

    # --- listeners -----------------------------------------------------------------------------

    def choose(self, listener: str, language: str | None) -> Heard:
        if language is not None and language not in self.interpretation.booths:
            raise InterpretationError("no_booth", f"there is no {language} channel")
        self.languages[listener] = language
        return self.interpretation.listener_hears(language)

    def forget(self, listener: str) -> None:
        self.languages.pop(listener, None)

    def listeners(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for listener, chosen in self.languages.items():
            if chosen is not None and listener not in self.unlisted:
                counts[chosen] = counts.get(chosen, 0) + 1
        return counts

    # --- who hears what ------------------------------------------------------------------------

    def _published(self, interpreter: str | None, name: str) -> Source | None:
        entry = self.interpreters.get(interpreter) if interpreter else None
        return entry[1].sources.get(name) if entry else None

    def _voice(self, heard: Heard) -> Source | None:
        return self._published(heard.interpreter, "microphone") if heard.kind == "booth" else None

    def slot_source(self, peer_id: str, slot: str, floor: Source | None) -> Source | None:
        """The source of an interpretation slot: a listener's channel, its sign-language
        interpreter, or what an interpreter hears (``floor`` or a relay booth's voice)."""
        if slot == "interpretation.audio":
            return self._voice(self.interpretation.listener_hears(self.languages.get(peer_id)))
        if slot == "sign.video":
            return self._sign(self.languages.get(peer_id), only=peer_id in self.unlisted)
        entry = self.interpreters.get(peer_id)
        if slot != "source.audio" or entry is None:
            return None
        heard = self.interpretation.interpreter_hears(peer_id, entry[0])
        return floor if heard == FLOOR else self._voice(heard)

    def _sign(self, language: str | None, only: bool = False) -> Source | None:
        """The chosen language's sign booth, else (unless ``only``: the recorder keeps each
        sign language's picture apart) the first sign booth with someone on air."""
        booths = self.interpretation.booths
        chosen = booths.get(language) if language else None
        candidates = [chosen] if chosen is not None and chosen.info.video else []
        if not only:
            candidates += [b for b in booths.values() if b.info.video and b is not chosen]
        for booth in candidates:
            video = self._published(booth.on_air, "camera")
            if video is not None:
                return video
        return None

    # --- reporting -----------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Per booth: who is on air and present, listeners, and the channel's audio level."""
        now = time.monotonic()
        counts = self.listeners()
        rows = []
        for language, booth in self.interpretation.booths.items():
            voice = self._published(booth.on_air, "microphone")
            fresh = voice is not None and now - voice.last_packet_at < LEVEL_FRESH
            rows.append(
                {
                    "language": language,
                    "video": booth.info.video,
                    "on_air": booth.on_air,
                    "on_air_name": booth.info.name_of(booth.on_air) if booth.on_air else None,
                    "present": sorted(booth.present),
                    "listeners": counts.get(language, 0),
                    "level": voice.peak_level if fresh and voice is not None else None,
                    "hears": self.interpretation.booth_hears(language).language or "floor",
                    "switched_out": self.interpretation.switched_out(language),
                }
            )
        return rows

    def snapshot(self) -> dict[str, Any]:
        return self.interpretation.snapshot(self.listeners())
