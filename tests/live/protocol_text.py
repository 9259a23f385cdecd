"""Reading docs/signalling.md the way a reader does: its event tables, the payload each
defines (``{"field": type, ...}``, or a type the document defines elsewhere, like
`RoomState`), and the fields of that payload, nested ones included, to hold against the
pydantic models of the events."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "signalling.md"
NAME = r"`([a-z][a-z_]*(?:\.[a-z_]+)*)`"

#: A payload's fields as the document shows them: each with its own fields when the document
#: shows them (an object, a list of objects, or a type it defines), else None.
Fields = dict[str, "Fields | str | None"]


def document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def room_section() -> str:
    text = document()
    return text[text.index("### Namespace `/room`") :]


@dataclass(frozen=True)
class Row:
    events: list[str]
    cells: list[str]


def event_tables(section: str) -> Iterator[tuple[list[str], list[Row]]]:
    """Each table whose first column is "event": its header's cells and its rows."""
    for block in re.split(r"\n\s*\n", section):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if not lines or not re.match(r"\|\s*event\s*\|", lines[0]):
            continue
        header = cells(lines[0])
        rows = [Row(re.findall(NAME, cells(line)[0]), cells(line)) for line in lines[2:]]
        yield header, rows


def cells(line: str) -> list[str]:
    """A table row's cells (``\\|`` is a bar inside a cell)."""
    parts = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [part.strip() for part in parts]


def sent_rows(section: str) -> dict[str, str]:
    """The server → client events: the rows of tables with a "to" column, and their payload."""
    found: dict[str, str] = {}
    for header, rows in event_tables(section):
        if "to" in header:
            for row in rows:
                found |= {event: row.cells[1] for event in row.events}
    return found


def payload_fields(text: str) -> Fields:
    """The fields of the payload ``text`` shows: its first ``{...}``, or the type it names."""
    start = re.search(r"\{|`([A-Z][A-Za-z]+)`", text)
    assert start is not None, f"no payload in {text!r}"
    if start.group(1):
        return type_fields(start.group(1))
    return _object(text, start.start())[0]


def type_fields(name: str) -> Fields:
    """The fields of a type the document defines: `Name` = `{...}`, `Name` is `{...}`, or
    `Name`: and a JSON block."""
    text = document()
    inline = re.search(r"`" + name + r"`(?: =| is)? `\{", text)
    block = re.search(r"`" + name + r"`:\s*```json\s*\{", text)
    found = inline or block
    assert found is not None, f"docs/signalling.md does not define {name}"
    return _object(text, found.end() - 1)[0]


def _object(text: str, at: int) -> tuple[Fields, int]:
    """The keys of the object that starts at ``text[at] == "{"``, and where it ends."""
    fields: Fields = {}
    key: str | None = None
    value = False  # after a key's colon, until the next comma
    i = at + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            end = text.index('"', i + 1)
            if not value:
                key = text[i + 1 : end]
                fields[key] = None
            i = end + 1
            continue
        if c == "{" or (c == "[" and text[i + 1 : i + 2] == "{"):
            inner, i = _object(text, text.index("{", i))
            if value and key is not None:
                fields[key] = inner
            continue
        typed = re.match(r"\[?([A-Z][A-Za-z]+)\]?", text[i:])
        if value and key is not None and typed:
            fields[key] = typed.group(1)
            i += typed.end()
            continue
        if c == ":":
            value = True
        elif c == ",":
            value = False
        elif c == "}":
            return fields, i + 1
        i += 1
    raise AssertionError(f"unclosed payload: {text[at : at + 80]!r}")


def names(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def differences(model: type[BaseModel], shown: Fields, where: str) -> list[str]:
    """How the document's fields differ from the model's, nested models included where the
    document shows their fields."""
    problems = [f"{where}.{f}: not in the document" for f in sorted(names(model) - set(shown))]
    problems += [f"{where}.{f}: not in the model" for f in sorted(set(shown) - names(model))]
    for name, field in model.model_fields.items():
        key = field.alias or name
        inner = shown.get(key)
        nested = _one_model(field.annotation)
        if nested is None or inner is None:
            continue
        inner_fields = type_fields(inner) if isinstance(inner, str) else inner
        if isinstance(inner, str) and not _defines(inner):
            continue
        problems += differences(nested, inner_fields, f"{where}.{key}")
    return problems


def _defines(name: str) -> bool:
    text = document()
    return bool(re.search(r"`" + name + r"`(?:(?: =| is)? `\{|:\s*```json)", text))


def _one_model(annotation: object) -> type[BaseModel] | None:
    """The one model a field holds (itself, in a list, or with None), if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (list, Union, types.UnionType) and len(args) == 1:
        return _one_model(args[0])
    return None
