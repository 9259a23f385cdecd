"""docs/signalling.md is the protocol (issue 18): every ``/room`` event the server handles is
defined there with exactly the fields of its payload's model, every event it sends is defined
in its "Server → client" table with exactly the fields of its model (``server.sent.Sent``),
nothing is sent but through those models, and every event the document defines is one that the
server handles or sends.

"Defined" is what a reader looks for: a row of a table whose first column is "event", or a
paragraph or list item that starts with the event and its payload (`` `offer` `{...}` ``). A
payload's fields are those of its first ``{...}``, or of the type it names (`RoomState`,
defined elsewhere as `` `RoomState` = `{...}` `` or a JSON block), nested objects included.
"""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel

from server.app import create_app
from server.config import Config
from server.keys import SOCKETS
from server.live.namespace import NAMESPACE, RoomNamespace
from server.sent import Sent
from tests.live.protocol_text import (
    NAME,
    ROOT,
    differences,
    document,
    event_tables,
    payload_fields,
    room_section,
    sent_rows,
)


def defined(section: str) -> set[str]:
    names: set[str] = set()
    for _, rows in event_tables(section):
        for row in rows:
            names |= set(row.events)
    previous = ""
    for line in section.splitlines():
        start = re.match(r"^(- |Server → [^`]*)?" + NAME + r" `\{", line)
        if start and (start.group(1) or not previous.strip()):  # a paragraph's or item's start
            names.add(start.group(2))
        previous = line
    return names


def payloads(config: Config) -> dict[str, type[BaseModel]]:
    app = create_app(config)
    namespace = app[SOCKETS].namespace_handlers[NAMESPACE]
    assert isinstance(namespace, RoomNamespace)
    return namespace.payloads()


def handled(config: Config) -> frozenset[str]:
    return frozenset(payloads(config))


def sent(config: Config) -> dict[str, type[Sent]]:
    """Every event the server sends on ``/room`` and its payload's model (the app and its
    features imported, so every model is declared)."""
    create_app(config)
    found: dict[str, type[Sent]] = {}
    models: list[type[Sent]] = [Sent]
    while models:
        model = models.pop()
        models += model.__subclasses__()
        if "event" in vars(model) and NAMESPACE in model.namespaces:
            assert model.event not in found, f"{model.event} has two models"
            found[model.event] = model
    return found


def definition(section: str, event: str) -> str:
    """The table row (of a client → server table), or the paragraph, that defines ``event``."""
    for header, rows in event_tables(section):
        if "to" not in header:
            for row in rows:
                if event in row.events:
                    return row.cells[1]
    for block in re.split(r"\n\s*\n", section):
        if re.match(r"^(- |Server → [^`]*)?`" + re.escape(event) + r"` `\{", block):
            return block
    raise AssertionError(f"{event} is not defined")


def test_every_event_the_room_handles_is_defined_in_the_document(config: Config) -> None:
    events = handled(config)
    assert len(events) > 30, events
    missing = sorted(events - defined(room_section()))
    assert missing == [], f"handled but not defined in docs/signalling.md: {missing}"


def test_every_event_the_server_sends_is_defined_in_the_document(config: Config) -> None:
    events = sent(config)
    assert {"room.state", "signing.state", "media.sending", "health.report"} <= set(events)
    missing = sorted(set(events) - set(sent_rows(room_section())))
    assert missing == [], f"sent but not in docs/signalling.md's server → client table: {missing}"


def test_nothing_is_sent_but_through_the_models() -> None:
    """socket.io's ``emit`` is called in one place, ``server.sent.send``, with a model's event
    and its dump: an event cannot go out under another name or with other fields."""
    callers = []
    for path in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "emit":
                    callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(callers) == 1 and callers[0].startswith("server/sent.py:"), callers


def test_every_event_the_document_defines_is_handled_or_sent(config: Config) -> None:
    known = handled(config) | set(sent(config))
    stray = sorted(defined(room_section()) - known)
    assert stray == [], f"defined in docs/signalling.md but neither handled nor sent: {stray}"


def test_every_payload_the_room_handles_has_the_documents_fields(config: Config) -> None:
    """The fields an event's definition shows are exactly its model's (nested ones too)."""
    section = room_section()
    problems = []
    for event, model in payloads(config).items():
        problems += differences(model, payload_fields(definition(section, event)), event)
    assert problems == [], "docs/signalling.md and the incoming models differ:\n" + "\n".join(
        problems
    )


def test_every_payload_the_server_sends_has_the_documents_fields(config: Config) -> None:
    rows = sent_rows(room_section())
    problems = []
    for event, model in sent(config).items():
        if event in rows:
            problems += differences(model, payload_fields(rows[event]), event)
    assert problems == [], "docs/signalling.md and the outgoing models differ:\n" + "\n".join(
        problems
    )


def test_the_document_is_read_as_a_reader_reads_it() -> None:
    """The reading itself: nested objects, a type defined elsewhere, values that are not
    fields."""
    assert payload_fields('`{"a": int, "b": {"c": "x" | "y", "d": [{"e": 1}]}}`') == {
        "a": None,
        "b": {"c": None, "d": {"e": None}},
    }
    assert set(payload_fields("`RoomState`")) >= {"conference_id", "sites", "floor"}
    assert "RoomState" in document()
