"""The minutes of one conference as an immutable document, and its one canonical JSON form.

The document follows the agenda: one ``ItemMinutes`` per agenda session, each with its
discussion, decisions and action items written in the conference languages side by side
(``{"vi": "Hợp tác", "lo": "ການຮ່ວມມື"}``). A decision or action item is one entry holding every
language's text, not one list per language: the languages of one decision stay together
whatever is added or removed, which is what a bilingual, side-by-side record needs.

Why a canonical JSON form: "final" records the SHA-256 of the text, and that hash must be
reproducible by anyone from the stored JSON alone. The form is UTF-8, keys sorted, no
whitespace, no floats (times are ISO 8601 strings in UTC, durations are derived), and every
text in Unicode NFC: Vietnamese typed on one keyboard arrives precomposed (``ợ``) and on
another decomposed (``o`` + combining marks), and Lao ``ຳ`` has the same two spellings; the
same words must give the same digest.

Validation runs on the whole document, where every path is known, and raises
``InvalidMinutes`` (a ``ValueError``) naming the field, e.g. ``items[2].discussion.lo``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from server.errors import InvalidInput
from server.i18n_strings import N_

#: Version of the JSON shape, stored in the document so a later shape can still read it.
FORMAT = 1
#: Bounds: a text (discussion, decision, action), a title or owner, list lengths.
MAX_TEXT = 200_000
MAX_TITLE = 1_000
MAX_OWNER = 200
MAX_ITEMS = 500
MAX_ENTRIES = 500  # decisions, and action items, per agenda item
MAX_LANGUAGES = 8
MAX_RECORDS = 20_000  # attendance rows and interventions
MAX_INTERVALS = 1_000  # presence intervals of one site in one session
#: The largest JSON text ``from_json`` reads (characters), checked before parsing.
MAX_JSON = 20_000_000

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
SESSION_UID = re.compile(r"[A-Za-z0-9@._:+-]{1,200}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Control characters other than line break and tab, and lone surrogates: refused in texts.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


class InvalidMinutes(InvalidInput, ValueError):
    """A field of the minutes is wrong: a 422 for the API, a ``ValueError`` for pure code."""

    code = "invalid_minutes"

    def __init__(self, path: str, message: str, **params: str) -> None:
        # With ``params``, ``message`` is an N_ template, as for ``field_error``.
        english = message % params if params else message
        error: dict[str, object] = {"field": path, "message": english}
        if params:
            error |= {"template": message, "params": params}
        super().__init__(f"{path}: {english}", errors=[error])
        self.path = path


Texts = Mapping[str, str]


def _freeze(texts: Texts) -> Texts:
    """A read-only copy in key order, texts in NFC (values of a wrong type are kept for the
    whole-document check to name)."""
    if not isinstance(texts, Mapping):
        return texts
    return MappingProxyType(
        {k: _nfc(v) for k, v in sorted(texts.items(), key=lambda kv: str(kv[0]))}
    )


def _nfc(value: Any) -> Any:
    """NFC, and line breaks as ``\n`` (a browser's text area sends ``\r\n``)."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


@dataclass(frozen=True)
class ActionItem:
    """Something a person must do by a date: what (per language), who, and when (ISO date or
    ``None`` when no date was set)."""

    what: Texts
    owner: str = ""
    due: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "what", _freeze(self.what))
        object.__setattr__(self, "owner", _nfc(self.owner))

    @property
    def due_date(self) -> dt.date | None:
        return None if self.due is None else dt.date.fromisoformat(self.due)


@dataclass(frozen=True)
class ItemMinutes:
    """The minutes of one agenda session."""

    session_uid: str
    title: Texts = field(default_factory=dict)
    discussion: Texts = field(default_factory=dict)
    decisions: tuple[Texts, ...] = ()
    actions: tuple[ActionItem, ...] = ()
    #: The session's database id when known (the uid is what identifies it across copies).
    session_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", _freeze(self.title))
        object.__setattr__(self, "discussion", _freeze(self.discussion))
        object.__setattr__(self, "decisions", tuple(_freeze(d) for d in self.decisions))
        object.__setattr__(self, "actions", tuple(self.actions))


@dataclass(frozen=True)
class Interval:
    """A span of time, aware and in UTC."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start))
        object.__setattr__(self, "end", _utc(self.end))

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class SiteAttendance:
    """When one site was present during one session (from the room's join and leave events)."""

    session_uid: str
    site_id: int
    intervals: tuple[Interval, ...] = ()
    late: bool = False
    left_early: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", tuple(self.intervals))

    @property
    def present(self) -> bool:
        return bool(self.intervals)

    @property
    def seconds(self) -> float:
        return sum(interval.seconds for interval in self.intervals)

    @property
    def minutes(self) -> int:
        """Whole minutes present, rounded to the nearest (what the minutes print)."""
        return round(self.seconds / 60)


@dataclass(frozen=True)
class Intervention:
    """One site holding the floor during a session (from the floor log)."""

    session_uid: str
    site_id: int
    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start))
        object.__setattr__(self, "end", _utc(self.end))

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Minutes:
    """The whole document. Constructing one validates it (``InvalidMinutes`` names the path).

    Not hashable (its texts are mappings); compare with ``==`` or by ``digest()``.
    """

    conference_id: int
    languages: tuple[str, ...]
    items: tuple[ItemMinutes, ...] = ()
    attendance: tuple[SiteAttendance, ...] = ()
    interventions: tuple[Intervention, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", tuple(self.languages))
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "attendance", tuple(self.attendance))
        object.__setattr__(self, "interventions", tuple(self.interventions))
        _check_minutes(self)

    # --- the canonical form ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "conference_id": self.conference_id,
            "languages": list(self.languages),
            "items": [_item_dict(item) for item in self.items],
            "attendance": [
                {
                    "session_uid": row.session_uid,
                    "site_id": row.site_id,
                    "intervals": [
                        {"start": _iso(i.start), "end": _iso(i.end)} for i in row.intervals
                    ],
                    "late": row.late,
                    "left_early": row.left_early,
                }
                for row in self.attendance
            ],
            "interventions": [
                {
                    "session_uid": i.session_uid,
                    "site_id": i.site_id,
                    "start": _iso(i.start),
                    "end": _iso(i.end),
                }
                for i in self.interventions
            ],
        }

    def to_json(self) -> str:
        """The canonical JSON text: sorted keys, no whitespace, UTF-8 characters as they are."""
        return canonical_json(self.to_dict())

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical JSON's UTF-8 bytes: what "final" records."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Any) -> Minutes:
        from server.minutes.reading import minutes_from

        return minutes_from(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Minutes:
        if len(text) > MAX_JSON:
            raise InvalidMinutes(
                "$", N_("the minutes are larger than %(max)s characters"), max=f"{MAX_JSON:,}"
            )
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidMinutes("$", N_("not JSON (%(reason)s)"), reason=str(exc)) from None
        return cls.from_dict(data)


def canonical_json(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _item_dict(item: ItemMinutes) -> dict[str, Any]:
    return {
        "session_uid": item.session_uid,
        "session_id": item.session_id,
        "title": dict(item.title),
        "discussion": dict(item.discussion),
        "decisions": [dict(d) for d in item.decisions],
        "actions": [{"what": dict(a.what), "owner": a.owner, "due": a.due} for a in item.actions],
    }


# --- validation --------------------------------------------------------------------------------


def _check_minutes(m: Minutes) -> None:
    if isinstance(m.conference_id, bool) or not isinstance(m.conference_id, int):
        raise InvalidMinutes("conference_id", N_("must be an integer"))
    if not m.languages:
        raise InvalidMinutes("languages", N_("at least one language is needed"))
    if len(m.languages) > MAX_LANGUAGES:
        raise InvalidMinutes("languages", N_("at most %(max)s languages"), max=str(MAX_LANGUAGES))
    for i, code in enumerate(m.languages):
        if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code):
            raise InvalidMinutes(
                f"languages[{i}]", N_("%(code)s is not a language code (vi, lo)"), code=repr(code)
            )
        if code in m.languages[:i]:
            raise InvalidMinutes(f"languages[{i}]", N_("%(code)s is listed twice"), code=repr(code))
    if len(m.items) > MAX_ITEMS:
        raise InvalidMinutes("items", N_("at most %(max)s agenda items"), max=str(MAX_ITEMS))
    seen: set[str] = set()
    for i, item in enumerate(m.items):
        path = f"items[{i}]"
        if not isinstance(item, ItemMinutes):
            raise InvalidMinutes(path, N_("must be an ItemMinutes"))
        _check_uid(item.session_uid, f"{path}.session_uid")
        if item.session_uid in seen:
            raise InvalidMinutes(f"{path}.session_uid", N_("the same session appears twice"))
        seen.add(item.session_uid)
        if item.session_id is not None and (
            isinstance(item.session_id, bool) or not isinstance(item.session_id, int)
        ):
            raise InvalidMinutes(f"{path}.session_id", N_("must be an integer or null"))
        _check_texts(item.title, f"{path}.title", m.languages, MAX_TITLE)
        _check_texts(item.discussion, f"{path}.discussion", m.languages, MAX_TEXT)
        if len(item.decisions) > MAX_ENTRIES:
            raise InvalidMinutes(
                f"{path}.decisions", N_("at most %(max)s decisions"), max=str(MAX_ENTRIES)
            )
        for j, decision in enumerate(item.decisions):
            _check_texts(decision, f"{path}.decisions[{j}]", m.languages, MAX_TEXT)
        if len(item.actions) > MAX_ENTRIES:
            raise InvalidMinutes(
                f"{path}.actions", N_("at most %(max)s action items"), max=str(MAX_ENTRIES)
            )
        for j, action in enumerate(item.actions):
            apath = f"{path}.actions[{j}]"
            if not isinstance(action, ActionItem):
                raise InvalidMinutes(apath, N_("must be an ActionItem"))
            _check_texts(action.what, f"{apath}.what", m.languages, MAX_TEXT)
            _check_text(action.owner, f"{apath}.owner", MAX_OWNER)
            if "\n" in action.owner:
                raise InvalidMinutes(f"{apath}.owner", N_("must be one line"))
            _check_due(action.due, f"{apath}.due")
    if len(m.attendance) > MAX_RECORDS:
        raise InvalidMinutes("attendance", N_("at most %(max)s rows"), max=f"{MAX_RECORDS:,}")
    for i, row in enumerate(m.attendance):
        path = f"attendance[{i}]"
        if not isinstance(row, SiteAttendance):
            raise InvalidMinutes(path, N_("must be a SiteAttendance"))
        _check_uid(row.session_uid, f"{path}.session_uid")
        _check_id(row.site_id, f"{path}.site_id")
        for flag in ("late", "left_early"):
            if not isinstance(getattr(row, flag), bool):
                raise InvalidMinutes(f"{path}.{flag}", N_("must be true or false"))
        if len(row.intervals) > MAX_INTERVALS:
            raise InvalidMinutes(
                f"{path}.intervals", N_("at most %(max)s intervals"), max=str(MAX_INTERVALS)
            )
        previous_end: dt.datetime | None = None
        for j, interval in enumerate(row.intervals):
            ipath = f"{path}.intervals[{j}]"
            _check_span(interval.start, interval.end, ipath)
            if previous_end is not None and interval.start < previous_end:
                raise InvalidMinutes(f"{ipath}.start", N_("intervals must be in order, apart"))
            previous_end = interval.end
    if len(m.interventions) > MAX_RECORDS:
        raise InvalidMinutes(
            "interventions", N_("at most %(max)s interventions"), max=f"{MAX_RECORDS:,}"
        )
    for i, intervention in enumerate(m.interventions):
        path = f"interventions[{i}]"
        if not isinstance(intervention, Intervention):
            raise InvalidMinutes(path, N_("must be an Intervention"))
        _check_uid(intervention.session_uid, f"{path}.session_uid")
        _check_id(intervention.site_id, f"{path}.site_id")
        _check_span(intervention.start, intervention.end, path)


def _check_uid(value: Any, path: str) -> None:
    if not isinstance(value, str) or not SESSION_UID.fullmatch(value):
        raise InvalidMinutes(path, N_("must be a session uid (letters, digits, @._:+-)"))


def _check_id(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMinutes(path, N_("must be an integer"))


def _check_span(start: Any, end: Any, path: str) -> None:
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise InvalidMinutes(f"{path}.{name}", N_("must be an aware date and time"))
    if end < start:
        raise InvalidMinutes(f"{path}.end", N_("ends before it starts"))


def _check_texts(texts: Any, path: str, languages: Sequence[str], limit: int) -> None:
    if not isinstance(texts, Mapping):
        raise InvalidMinutes(path, N_("must map language codes to texts"))
    for code, text in texts.items():
        if code not in languages:
            known = ", ".join(languages)
            raise InvalidMinutes(
                f"{path}.{code}",
                N_("%(code)s is not a language of these minutes (%(known)s)"),
                code=repr(code),
                known=known,
            )
        _check_text(text, f"{path}.{code}", limit)


def _check_text(text: Any, path: str, limit: int) -> None:
    if not isinstance(text, str):
        raise InvalidMinutes(path, N_("must be a text"))
    if len(text) > limit:
        raise InvalidMinutes(
            path,
            N_("at most %(max)s characters (this has %(count)s)"),
            max=f"{limit:,}",
            count=f"{len(text):,}",
        )
    bad = FORBIDDEN.search(text)
    if bad is not None:
        raise InvalidMinutes(
            path,
            N_("character %(character)s is not allowed in a text"),
            character=f"U+{ord(bad.group()):04X}",
        )


def _check_due(value: Any, path: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise InvalidMinutes(path, N_("must be an ISO date (YYYY-MM-DD) or null"))
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidMinutes(
            path, N_("%(value)s is not a date in the calendar"), value=value
        ) from None


# --- reading the JSON form ---------------------------------------------------------------------
