"""Small ``.ics`` files built line by line, so tests know the line number of every property."""

from __future__ import annotations

HEADER = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Test//EN"]
EVENT = [
    "BEGIN:VEVENT",
    "UID:session-1@example.org",
    "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=Europe/Paris:20260602T090000",
    "DTEND;TZID=Europe/Paris:20260602T103000",
    "SUMMARY:Donor briefing",
    "END:VEVENT",
]


def ics(*events: list[str], header: list[str] = HEADER, footer: str = "END:VCALENDAR") -> bytes:
    lines = [*header, *(line for event in events for line in event), footer]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _name(line: str) -> str:
    return line.split(":")[0].split(";")[0]


def event(*changes: str, drop: tuple[str, ...] = (), uid: str | None = None) -> list[str]:
    """EVENT with its own properties replaced, others added before END:VEVENT, some dropped."""
    lines = [line for line in EVENT if not line.startswith(drop)] if drop else list(EVENT)
    own = {_name(line) for line in EVENT} - {"BEGIN", "END"}
    for change in changes:
        name = _name(change)
        index = next((i for i, line in enumerate(lines) if _name(line) == name), None)
        if index is None or name not in own:
            lines.insert(-1, change)
        else:
            lines[index] = change
    if uid is not None:
        lines[1] = f"UID:{uid}"
    return lines


def line_of(data: bytes, prefix: str, nth: int = 0) -> int:
    numbers = [n for n, line in enumerate(data.split(b"\n"), 1) if line.startswith(prefix.encode())]
    return numbers[nth]
