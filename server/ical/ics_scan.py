"""The first pass over an ``.ics`` file: raw text checks, and where everything is.

Before icalendar (which is lenient and keeps no line numbers) sees the text, it is checked
here: size, UTF-8, control characters, content-line syntax, CHARSET parameters, BEGIN/END
pairs, nesting depth, one VCALENDAR, VEVENTs only directly inside it and not too many of
them. The result maps every component and property to its line, for ``ics_parse``'s errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .events import IcsError

_NAME = re.compile(r"^[A-Za-z0-9-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CHARSET = re.compile(r';CHARSET=("?)([^;:",]*)\1', re.IGNORECASE)


@dataclass
class ScannedComponent:
    """A component as it appears in the raw text: its line and the lines of its properties."""

    name: str
    line: int
    props: dict[str, list[int]] = field(default_factory=dict)
    children: list[ScannedComponent] = field(default_factory=list)

    def line_of(self, prop: str, index: int = 0) -> int:
        lines = self.props.get(prop, [])
        return lines[index] if index < len(lines) else (lines[0] if lines else self.line)


def decode(data: bytes, max_bytes: int) -> str:
    """The file's text: refuses files over ``max_bytes`` and anything but UTF-8."""
    if len(data) > max_bytes:
        raise IcsError(None, None, f"the file is {len(data):,} bytes; the limit is {max_bytes:,}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IcsError(1, None, "the file is UTF-16; iCalendar files must be UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        begin = data.rfind(b"\n", 0, exc.start) + 1
        found = _NAME.match(data[begin : begin + 100].decode("ascii", "replace"))
        raise IcsError(
            line,
            found.group(0).upper() if found else None,
            f"byte 0x{data[exc.start]:02X} (column {exc.start - begin + 1}) is not UTF-8;"
            " iCalendar files must be UTF-8 (RFC 5545 §3.1.4): save the file as UTF-8",
        ) from None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Content lines with folding undone, each with the number of its first physical line."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if "\r" in line:
            raise IcsError(number, _name_of(line), "lines must end with CRLF, not a bare CR")
        bad = _CONTROL.search(line)
        if bad:
            raise IcsError(
                number,
                _name_of(line),
                f"control character U+{ord(bad.group(0)):04X} is not allowed in iCalendar text",
            )
        if line[:1] in (" ", "\t"):
            if not lines:
                raise IcsError(number, None, "the file starts with a continuation line")
            first, previous = lines[-1]
            lines[-1] = (first, previous + line[1:])
        elif line:
            lines.append((number, line))
    return lines


def _name_of(line: str) -> str | None:
    found = _NAME.match(line)
    return found.group(0).upper() if found else None


def scan(text: str, max_events: int, max_depth: int) -> ScannedComponent:
    """Check the raw structure and map components and properties to their lines."""
    stack: list[ScannedComponent] = []
    root: ScannedComponent | None = None
    events = 0
    for number, line in _logical_lines(text):
        name = _name_of(line)
        colon = _value_start(line)
        if name is None or colon is None or line[len(name)] not in ";:":
            raise IcsError(number, name, "not an iCalendar content line (NAME:value expected)")
        charset = _CHARSET.search(line[:colon])
        if charset and charset.group(2).upper().replace("-", "") != "UTF8":
            raise IcsError(
                number,
                name,
                f"CHARSET={charset.group(2)} is not supported: iCalendar files are UTF-8",
            )
        value = line[colon + 1 :].strip().upper()
        if name == "BEGIN":
            if not value:
                raise IcsError(number, "BEGIN", "BEGIN without a component name")
            if len(stack) >= max_depth:
                raise IcsError(number, f"BEGIN:{value}", f"components nest deeper than {max_depth}")
            if not stack and value != "VCALENDAR":
                raise IcsError(number, f"BEGIN:{value}", "a component outside the VCALENDAR")
            if not stack and root is not None:
                raise IcsError(number, "BEGIN:VCALENDAR", "only one VCALENDAR per file")
            if value == "VCALENDAR" and stack:
                raise IcsError(number, "BEGIN:VCALENDAR", "a VCALENDAR inside a component")
            if value == "VEVENT":
                if stack[-1].name != "VCALENDAR":
                    raise IcsError(number, "BEGIN:VEVENT", f"a VEVENT inside {stack[-1].name}")
                events += 1
                if events > max_events:
                    raise IcsError(number, "VEVENT", f"more than {max_events} events in the file")
            node = ScannedComponent(value, number)
            if stack:
                stack[-1].children.append(node)
            else:
                root = node
            stack.append(node)
        elif name == "END":
            if not stack:
                raise IcsError(number, f"END:{value}", "END without a matching BEGIN")
            if value != stack[-1].name:
                raise IcsError(
                    number,
                    f"END:{value}",
                    f"END:{value} does not close BEGIN:{stack[-1].name} of line {stack[-1].line}",
                )
            stack.pop()
        elif not stack:
            raise IcsError(number, name, "content outside BEGIN:VCALENDAR ... END:VCALENDAR")
        else:
            stack[-1].props.setdefault(name, []).append(number)
    if stack:
        node = stack[-1]
        raise IcsError(node.line, f"BEGIN:{node.name}", f"BEGIN:{node.name} is never closed by END")
    if root is None:
        raise IcsError(None, None, "no BEGIN:VCALENDAR: this is not an iCalendar file")
    return root


def _value_start(line: str) -> int | None:
    """Index of the ':' that starts the value (colons inside quoted parameters skipped)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index
    return None
