"""docs/signalling.md is the protocol (issue 18): every ``/room`` event the server handles is
defined there, every event it sends is named there, and every event the document defines is
one that the server handles or sends.

"Defined" is what a reader looks for: a row of a table whose first column is "event", or a
paragraph or list item that starts with the event and its payload (`` `offer` `{...}` ``).
The events the server sends are those of its payloads' models (``server.sent.Sent``).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from server.app import create_app
from server.config import Config
from server.keys import SOCKETS
from server.live.namespace import NAMESPACE, RoomNamespace
from server.sent import Sent

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "signalling.md"
NAME = r"`([a-z][a-z_]*(?:\.[a-z_]+)*)`"


def room_section() -> str:
    text = DOCUMENT.read_text(encoding="utf-8")
    return text[text.index("### Namespace `/room`") :]


def defined(section: str) -> set[str]:
    names: set[str] = set()
    in_table = False
    previous = ""
    for line in section.splitlines():
        if re.match(r"\|\s*event\s*\|", line):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            in_table = False
        if in_table and not line.startswith("|--") and not line.startswith("|-"):
            names |= set(re.findall(NAME, line.split("|")[1]))
        start = re.match(r"^(- |Server → [^`]*)?" + NAME + r" `\{", line)
        if start and (start.group(1) or not previous.strip()):  # a paragraph's or item's start
            names.add(start.group(2))
        previous = line
    return names


def sent_by_the_server() -> set[str]:
    """The events of the models the server sends on ``/room`` (``server.sent.Sent``; the app
    imports every feature, so every model is declared)."""
    names: set[str] = set()
    models: list[type[Sent]] = [Sent]
    while models:
        model = models.pop()
        models += model.__subclasses__()
        if "event" in vars(model) and NAMESPACE in model.namespaces:
            names.add(model.event)
    return names


def payloads(config: Config) -> dict[str, type[BaseModel]]:
    app = create_app(config)
    namespace = app[SOCKETS].namespace_handlers[NAMESPACE]
    assert isinstance(namespace, RoomNamespace)
    return namespace.payloads()


def handled(config: Config) -> frozenset[str]:
    return frozenset(payloads(config))


def definition(section: str, event: str) -> str:
    """The table row, or the paragraph, that defines ``event``."""
    for block in re.split(r"\n\s*\n", section):
        lines = block.splitlines()
        if lines and re.match(r"\|\s*event\s*\|", lines[0]):  # an event table
            for line in lines[2:]:
                if f"`{event}`" in line.split("|")[1]:
                    return line
        if re.match(r"^(- |Server → [^`]*)?`" + re.escape(event) + r"` `\{", block):
            return block
    raise AssertionError(f"{event} is not defined")


def test_every_event_the_room_handles_is_defined_in_the_document(config: Config) -> None:
    events = handled(config)
    assert len(events) > 30, events
    missing = sorted(events - defined(room_section()))
    assert missing == [], f"handled but not defined in docs/signalling.md: {missing}"


def test_every_event_the_server_sends_is_named_in_the_document() -> None:
    named = set(re.findall(NAME, DOCUMENT.read_text(encoding="utf-8")))
    sent = sent_by_the_server()
    assert {"room.state", "signing.state", "media.sending"} <= sent, sent
    missing = sorted(sent - named)
    assert missing == [], f"sent but not named in docs/signalling.md: {missing}"


def test_every_event_the_document_defines_is_handled_or_sent(config: Config) -> None:
    known = handled(config) | sent_by_the_server()
    stray = sorted(defined(room_section()) - known)
    assert stray == [], f"defined in docs/signalling.md but neither handled nor sent: {stray}"


def test_every_payload_field_is_in_the_events_definition(config: Config) -> None:
    """Each field of an event's payload model is named where the document defines the event
    (``"field"`` in its payload; for a payload the row names as a type, like `BrowserStats`,
    among the section's fields)."""
    section = room_section()
    everywhere = set(re.findall(NAME, section))
    unnamed: dict[str, list[str]] = {}
    for event, model in payloads(config).items():
        text = definition(section, event)
        quoted = set(re.findall(r'"([a-z_]+)"', text))
        typed = re.search(r"`[A-Z][A-Za-z]+`", text) is not None
        fields = [f.alias or name for name, f in model.model_fields.items()]
        missing = [f for f in fields if f not in quoted and not (typed and f in everywhere)]
        if missing:
            unnamed[event] = missing
    assert unnamed == {}, f"payload fields docs/signalling.md does not name: {unnamed}"
