"""docs/signalling.md is the protocol (issue 18): every ``/room`` event the server handles is
defined there, every event it sends is named there, and every event the document defines is
one that the server handles or sends.

"Defined" is what a reader looks for: a row of a table whose first column is "event", or a
paragraph or list item that starts with the event and its payload (`` `offer` `{...}` ``).
The events the server sends are read from its code: the string given to every
``emit``/``tell`` call.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server.app import create_app
from server.config import Config
from server.keys import SOCKETS
from server.live.namespace import NAMESPACE, RoomNamespace

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "signalling.md"
NAME = r"`([a-z][a-z_]*(?:\.[a-z_]+)*)`"
#: Sent under a name the code computes (``RoomNamespace.admission``'s, the rooms' own events).
COMPUTED = frozenset({"admitted", "refused", "removed", "rejoin", "room.event"})


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
    """The literal names given to ``emit``, ``_emit``, ``tell`` and ``_tell`` in server/."""
    names: set[str] = set()
    for path in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr not in ("emit", "_emit", "tell", "_tell"):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            names |= {t for t in texts if isinstance(t, str) and re.fullmatch(r"[a-z][a-z_.]*", t)}
    return names


def handled(config: Config) -> frozenset[str]:
    app = create_app(config)
    namespace = app[SOCKETS].namespace_handlers[NAMESPACE]
    assert isinstance(namespace, RoomNamespace)
    return namespace.events()


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
    known = handled(config) | sent_by_the_server() | COMPUTED
    stray = sorted(defined(room_section()) - known)
    assert stray == [], f"defined in docs/signalling.md but neither handled nor sent: {stray}"
