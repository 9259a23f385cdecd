"""Who is speaking: the loudest audible source, with hysteresis so the label does not flicker.

Levels come from the RFC 6464 audio-level header extension of the forwarded packets (the server
never decodes audio). A new voice must stay the loudest for ``SPEAKER_HOLD`` seconds before the
speaker changes; silence counts as a candidate too ("nobody is speaking").
"""

from __future__ import annotations

from collections.abc import Iterable

from rooms.forwarding import Source

SPEAKING_LEVEL = 50  # -dBov: an audio level below this (louder) counts as speech
SPEAKER_SILENCE = 1.0  # seconds without packets before a source stops counting
SPEAKER_HOLD = 0.75  # seconds a new voice must stay the loudest before the speaker changes


class ActiveSpeaker:
    def __init__(self) -> None:
        self.speaker: str | None = None
        self._candidate: tuple[str | None, float] | None = None

    def update(self, audible: Iterable[tuple[str, Source]], now: float) -> bool:
        """Look at the sources' last levels; True when ``speaker`` changed."""
        loudest: tuple[int, str] | None = None
        for site_id, source in audible:
            level = source.audio_level
            fresh = now - source.last_packet_at < SPEAKER_SILENCE
            if level is not None and fresh and level < SPEAKING_LEVEL:
                if loudest is None or level < loudest[0]:
                    loudest = (level, site_id)
        candidate = loudest[1] if loudest else None
        if candidate == self.speaker:
            self._candidate = None
            return False
        if self._candidate is None or self._candidate[0] != candidate:
            self._candidate = (candidate, now)
            return False
        if now - self._candidate[1] < SPEAKER_HOLD:
            return False
        self.speaker, self._candidate = candidate, None
        return True
