"""Revisions of the minutes: what changed between two (the "diff viewable" page), the three-way
merge of two editors' work, and the refusal of a save made on a stale revision.

Everything works on the canonical JSON tree of ``Minutes.to_dict()``, field path by field path
(``items[2].discussion.lo``), so diff, merge and validation name fields the same way.

Why refuse and merge rather than "last save wins": the secretary autosaves every few seconds,
and a second editor (a co-secretary, the other delegation's note taker) may be typing in the
same document. A save states the revision it was based on; if another was saved since, the save
is refused (``StaleRevision``) and the editor's page shows ``merge(base, mine, theirs)``: what
merged by itself, and each field both changed differently with the three values side by side.
Nothing is ever silently overwritten.

Lists (decisions, action items, agenda items) are merged by position: simple to show and to
predict. Two editors changing the same position differently is a conflict, even two new
decisions appended at the same place: guessing their order would be silently choosing.
Agenda items are merged field by field only while the same session sits at the same position;
conference id, languages, attendance and interventions are merged as whole values (the last two
are regenerated from the room's event log, never typed).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from server.errors import Conflict as ConflictError
from server.i18n_strings import N_
from server.minutes.document import InvalidMinutes, Minutes

#: A text at least this long (or of several lines) gets a line diff in its ``RevisionChange``.
LONG_TEXT = 200
#: Root fields merged as whole values.
ATOMIC = frozenset({"format", "conference_id", "languages", "attendance", "interventions"})

Key = str | int
ChangeKind = Literal["added", "removed", "changed"]
Side = Literal["base", "mine", "theirs"]


class _Missing:
    """Absent (a key or position that one version does not have); survives deep copies."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def path_of(keys: tuple[Key, ...]) -> str:
    """``("items", 2, "discussion", "lo")`` → ``items[2].discussion.lo``."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else key
    return out


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def keys_of(path: str) -> tuple[Key, ...]:
    """The inverse of ``path_of``."""
    keys: list[Key] = []
    for index, name in _PATH_PART.findall(path):
        keys.append(int(index) if index else name)
    return tuple(keys)


# --- diff ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevisionChange:
    """One difference between two versions, at a field path. ``old``/``new`` are JSON values
    (``None`` when added/removed); ``lines`` a unified line diff for long or multi-line texts."""

    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None
    lines: tuple[str, ...] = ()


def diff(old: Minutes, new: Minutes) -> list[RevisionChange]:
    """Each change from ``old`` to ``new``, in document order. A new or removed decision, action
    item or agenda item is one change at its path (its whole value), not one per field."""
    changes: list[RevisionChange] = []
    _diff(old.to_dict(), new.to_dict(), (), changes)
    return changes


def _diff(a: Any, b: Any, keys: tuple[Key, ...], out: list[RevisionChange]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict) and keys not in _ATOMIC_KEYS:
        for key in [*a, *(k for k in b if k not in a)]:
            sub = (*keys, key)
            if key not in b:
                out.append(RevisionChange(path_of(sub), "removed", old=a[key]))
            elif key not in a:
                out.append(RevisionChange(path_of(sub), "added", new=b[key]))
            else:
                _diff(a[key], b[key], sub, out)
        return
    if isinstance(a, list) and isinstance(b, list) and keys not in _ATOMIC_KEYS:
        for i in range(max(len(a), len(b))):
            sub = (*keys, i)
            if i >= len(b):
                out.append(RevisionChange(path_of(sub), "removed", old=a[i]))
            elif i >= len(a):
                out.append(RevisionChange(path_of(sub), "added", new=b[i]))
            else:
                _diff(a[i], b[i], sub, out)
        return
    out.append(RevisionChange(path_of(keys), "changed", old=a, new=b, lines=_line_diff(a, b)))


_ATOMIC_KEYS = frozenset({("languages",), ("format",), ("conference_id",)})


def _line_diff(a: Any, b: Any) -> tuple[str, ...]:
    if not (isinstance(a, str) and isinstance(b, str)):
        return ()
    if max(len(a), len(b)) < LONG_TEXT and "\n" not in a + b:
        return ()
    return tuple(
        difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", n=1, lineterm="")
    )


# --- merge ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevisionConflict:
    """A field both sides changed differently. Values are JSON values, ``None`` when the side
    does not have the field (it removed the entry, or never had it)."""

    path: str
    base: Any
    mine: Any
    theirs: Any
    keys: tuple[Key, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class MergeResult:
    """``merged`` holds every automatic merge, and for each conflict the editor's own value
    ("mine": what they are typing stays on their screen until they choose)."""

    merged: Minutes
    conflicts: tuple[RevisionConflict, ...]
    _tree: Any = field(default=None, repr=False, compare=False)
    _sides: tuple[Any, Any, Any] = field(default=(None, None, None), repr=False, compare=False)

    @property
    def clean(self) -> bool:
        return not self.conflicts

    def resolve(self, choices: Mapping[str, Side]) -> Minutes:
        """The merged minutes with each conflict (by path) taken from the chosen side; a
        conflict not chosen keeps "mine". Raises ``InvalidMinutes`` if the result is invalid
        (e.g. the same agenda session twice) and ``KeyError`` for a path that is no conflict."""
        by_path = {c.path: c for c in self.conflicts}
        for path in choices:
            if path not in by_path:
                raise KeyError(path)
        tree = _copy(self._tree)
        sides = dict(zip(("base", "mine", "theirs"), self._sides, strict=True))
        for path, side in choices.items():
            keys = by_path[path].keys
            value = _copy(_get_or_missing(sides[side], keys))
            if not keys:
                tree = value
            else:
                _get(tree, keys[:-1])[keys[-1]] = value
        return Minutes.from_dict(_strip(tree))


def merge(base: Minutes, mine: Minutes, theirs: Minutes) -> MergeResult:
    """Three-way merge: a field changed on one side only takes that change; the same change on
    both sides is no conflict; different changes to one field are a ``RevisionConflict``."""
    sides = (base.to_dict(), mine.to_dict(), theirs.to_dict())
    conflicts: list[RevisionConflict] = []
    tree = _merge(*sides, (), conflicts)
    try:
        merged = Minutes.from_dict(_strip(tree))
    except InvalidMinutes as exc:
        # Each side is valid, the combination is not (e.g. more than the bounds allow): the
        # field the check names becomes a conflict, and the merge shows "mine" until chosen.
        keys = keys_of(exc.path)
        b, m, t = (_public(_get_or_missing(side, keys)) for side in sides)
        conflicts.append(RevisionConflict(exc.path, b, m, t, keys=keys))
        return MergeResult(mine, tuple(conflicts), tree, sides)
    return MergeResult(merged, tuple(conflicts), tree, sides)


def _merge(b: Any, m: Any, t: Any, keys: tuple[Key, ...], out: list[RevisionConflict]) -> Any:
    if m == t:
        return m
    if m == b:
        return t
    if t == b:
        return m
    atomic = len(keys) == 1 and keys[0] in ATOMIC
    if not atomic and _same_entry(b, m, t):
        if isinstance(b, dict) and isinstance(m, dict) and isinstance(t, dict):
            merged: dict[Key, Any] = {}
            for key in dict.fromkeys([*b, *m, *t]):
                merged[key] = _merge(
                    b.get(key, MISSING), m.get(key, MISSING), t.get(key, MISSING), (*keys, key), out
                )
            return merged
        if isinstance(b, list) and isinstance(m, list) and isinstance(t, list):
            return [
                _merge(_at(b, i), _at(m, i), _at(t, i), (*keys, i), out)
                for i in range(max(len(b), len(m), len(t)))
            ]
    out.append(RevisionConflict(path_of(keys), _public(b), _public(m), _public(t), keys=keys))
    return m


def _same_entry(b: Any, m: Any, t: Any) -> bool:
    """Merge inside only when all three exist, have one shape, and (for an agenda item) are
    the same session."""
    if not (type(b) is type(m) is type(t)) or not isinstance(b, dict | list):
        return False
    if isinstance(b, dict) and "session_uid" in b:
        return bool(b.get("session_uid") == m.get("session_uid") == t.get("session_uid"))
    return True


def _at(values: list[Any], i: int) -> Any:
    return values[i] if i < len(values) else MISSING


def _public(value: Any) -> Any:
    return None if value is MISSING else _strip(value)


def _strip(value: Any) -> Any:
    """The tree without MISSING placeholders (kept during the merge so positions stay put)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [_strip(v) for v in value if v is not MISSING]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _get(tree: Any, keys: tuple[Key, ...]) -> Any:
    for key in keys:
        tree = tree[key]
    return tree


def _get_or_missing(tree: Any, keys: tuple[Key, ...]) -> Any:
    try:
        return _get(tree, keys)
    except (KeyError, IndexError, TypeError):
        return MISSING


# --- stale revisions -----------------------------------------------------------------------------


class StaleRevision(ConflictError):
    """A save based on a revision older than the current one (a 409 for the API)."""

    code = "stale_revision"
    title = "The minutes changed since you loaded them"

    def __init__(
        self, current: int, base: int, saved_by: str, saved_at: dt.datetime | None
    ) -> None:
        when = (
            saved_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            if saved_at is not None
            else "an unknown time"
        )
        who = saved_by or "another editor"
        super().__init__(
            N_(
                "Your changes were not saved: %(who)s saved revision %(current)s at %(when)s,"
                " after revision %(base)s that you were editing (a newer revision)."
                " Reload the minutes and merge your changes with theirs, then save again."
            )
            if current - base == 1
            else N_(
                "Your changes were not saved: %(who)s saved revision %(current)s at %(when)s,"
                " after revision %(base)s that you were editing (%(newer)s newer revisions)."
                " Reload the minutes and merge your changes with theirs, then save again."
            ),
            params={
                "who": who,
                "current": str(current),
                "when": when,
                "base": str(base),
                "newer": str(current - base),
            },
        )
        self.current = current
        self.base = base
        self.saved_by = saved_by
        self.saved_at = saved_at


def check_base(
    current_revision: int,
    sent_base: int,
    *,
    saved_by: str = "",
    saved_at: dt.datetime | None = None,
) -> None:
    """Refuse a save whose base is not the current revision. ``saved_by``/``saved_at`` describe
    the current revision (who saved it, when) for the message. A base from the future is a
    client error (``ValueError``), not a stale one."""
    if sent_base > current_revision or sent_base < 0:
        raise ValueError(f"revision {sent_base} does not exist (the latest is {current_revision})")
    if sent_base != current_revision:
        raise StaleRevision(current_revision, sent_base, saved_by, saved_at)
