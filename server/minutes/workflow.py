"""The minutes' workflow as an explicit state machine, in the manner of
``server.conferences.lifecycle``: which step may follow which, and who may take it.

    draft → circulated → final
    circulated → draft (the delegations' comments require changes)

Why edits are refused while circulated, not only when final: each delegation comments on the
text it was sent; changing it under them would make their comments refer to words no longer
there. Changes go back through draft and a new circulation round (comments keep their round).

Final is final: the text is locked and its SHA-256 (``Minutes.digest()``) recorded, which the
ledger then appends; there is no step out of final, and any edit is refused.

Roles are plain strings (the values of ``server.models.Role``: "secretary", "organiser");
the control plane works out which roles a user holds in the conference and that a comment's
author speaks for its delegation. Every function here is pure and returns a new record.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from server.errors import Conflict, Forbidden
from server.i18n_strings import N_
from server.minutes.document import InvalidMinutes, Minutes

SECRETARY = "secretary"
ORGANISER = "organiser"

#: The longest comment (characters).
MAX_COMMENT = 20_000
#: A field path a comment may point at (``items[1].decisions[0]``).
_COMMENT_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\]|\.[A-Za-z0-9_-]+)*")


class MinutesState(enum.StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    FINAL = "final"


S = MinutesState

#: For each state, the states it may go to and the roles that may take each step. Finalising
#: is the organiser's: the secretary writes the record, the organiser answers for it.
TRANSITIONS: dict[MinutesState, dict[MinutesState, frozenset[str]]] = {
    S.DRAFT: {S.CIRCULATED: frozenset({SECRETARY, ORGANISER})},
    S.CIRCULATED: {
        S.DRAFT: frozenset({SECRETARY, ORGANISER}),
        S.FINAL: frozenset({ORGANISER}),
    },
    S.FINAL: {},
}

#: States in which the text may change, and who may change it.
EDITABLE = frozenset({S.DRAFT})
EDITORS = frozenset({SECRETARY, ORGANISER})


class IllegalStep(Conflict):
    code = "illegal_transition"
    title = "This step is not possible now"


class WrongRole(Forbidden):
    code = "wrong_role"
    title = "Not yours to do"


class MinutesLocked(Conflict):
    """An edit of minutes that are circulated or final."""

    code = "minutes_locked"
    title = "The minutes cannot be edited now"


def next_states(current: MinutesState) -> list[MinutesState]:
    """The states minutes in ``current`` may go to, in workflow order."""
    allowed = TRANSITIONS[current]
    return [state for state in MinutesState if state in allowed]


def is_allowed(current: MinutesState, wanted: MinutesState) -> bool:
    return wanted in TRANSITIONS[current]


def who_may(current: MinutesState, wanted: MinutesState) -> frozenset[str]:
    """The roles that may take the step (empty when the step does not exist)."""
    return TRANSITIONS[current].get(wanted, frozenset())


def check_step(current: MinutesState, wanted: MinutesState, roles: Iterable[str]) -> None:
    """Raise ``IllegalStep`` (no such step now) or ``WrongRole`` (not one of the roles)."""
    if not is_allowed(current, wanted):
        allowed = ", ".join(next_states(current))
        if not allowed:
            raise IllegalStep(
                N_("Final minutes are locked: they cannot become %(wanted)s."),
                params={"wanted": f"{wanted}"},
            )
        raise IllegalStep(
            N_("Minutes that are %(current)s cannot become %(wanted)s (possible: %(allowed)s)."),
            params={"current": f"{current}", "wanted": f"{wanted}", "allowed": allowed},
        )
    needed = who_may(current, wanted)
    if not needed & set(roles):
        raise WrongRole(
            N_("Only the %(roles)s may make %(current)s minutes %(wanted)s."),
            params={"roles": _or(needed), "current": f"{current}", "wanted": f"{wanted}"},
        )


def _or(roles: Iterable[str]) -> str:
    names = sorted(roles)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class Comment:
    """A delegation's comment on circulated minutes, optionally on one field path."""

    delegation_id: int
    author: str
    at: dt.datetime
    text: str
    path: str | None = None
    round: int = 0


@dataclass(frozen=True)
class MinutesRecord:
    """The minutes with their workflow state: circulation round, the delegations they went to,
    comments of every round, and the digest once final."""

    minutes: Minutes
    state: MinutesState = S.DRAFT
    round: int = 0
    delegations: frozenset[int] = frozenset()
    comments: tuple[Comment, ...] = ()
    digest: str | None = None

    @property
    def locked(self) -> bool:
        return self.state not in EDITABLE

    def comments_of_round(self, round_: int | None = None) -> tuple[Comment, ...]:
        wanted = self.round if round_ is None else round_
        return tuple(c for c in self.comments if c.round == wanted)

    def silent_delegations(self) -> frozenset[int]:
        """Delegations of the current round that have not commented (yet)."""
        return self.delegations - {c.delegation_id for c in self.comments_of_round()}

    def verify(self) -> bool:
        """Final minutes whose text still has the recorded digest."""
        return self.state is S.FINAL and self.digest == self.minutes.digest()


def edit(record: MinutesRecord, minutes: Minutes, roles: Iterable[str]) -> MinutesRecord:
    """The record with new text (a save). Refused unless draft and by an editor; the
    conference may not change."""
    if record.state is S.FINAL:
        raise MinutesLocked(
            N_(
                "These minutes are final: the text is locked and its SHA-256 recorded. "
                "Nothing can be changed."
            )
        )
    if record.state not in EDITABLE:
        raise MinutesLocked(
            N_(
                "These minutes are %(state)s to the delegations for comments. Return them to"
                " draft to change the text."
            ),
            params={"state": f"{record.state}"},
        )
    if not EDITORS & set(roles):
        raise WrongRole(
            N_("Only the %(roles)s may edit the minutes."), params={"roles": _or(EDITORS)}
        )
    if minutes.conference_id != record.minutes.conference_id:
        raise InvalidMinutes("conference_id", N_("the minutes belong to another conference"))
    return replace(record, minutes=minutes)


def circulate(
    record: MinutesRecord, delegations: Iterable[int], roles: Iterable[str]
) -> MinutesRecord:
    """Send the draft to the delegations for comments (a new round)."""
    check_step(record.state, S.CIRCULATED, roles)
    to = frozenset(delegations)
    if not to:
        raise InvalidMinutes("delegations", N_("circulate to at least one delegation"))
    return replace(record, state=S.CIRCULATED, round=record.round + 1, delegations=to)


def return_to_draft(record: MinutesRecord, roles: Iterable[str]) -> MinutesRecord:
    """Back to draft when comments require changes; the comments stay with their round."""
    check_step(record.state, S.DRAFT, roles)
    return replace(record, state=S.DRAFT)


def add_comment(record: MinutesRecord, comment: Comment) -> MinutesRecord:
    """A delegation's comment, only while circulated and only from a delegation it went to."""
    if record.state is not S.CIRCULATED:
        raise IllegalStep(
            N_("Comments are taken while the minutes are circulated, not %(state)s."),
            params={"state": f"{record.state}"},
        )
    if comment.delegation_id not in record.delegations:
        raise WrongRole(N_("The minutes were not circulated to this delegation."))
    text = comment.text.strip()
    if not text:
        raise InvalidMinutes("text", N_("a comment needs some text"))
    if len(text) > MAX_COMMENT:
        raise InvalidMinutes("text", N_("at most %(max)s characters"), max=f"{MAX_COMMENT:,}")
    if comment.path is not None and not _COMMENT_PATH.fullmatch(comment.path):
        raise InvalidMinutes(
            "path", N_("%(given)s is not a field path of the minutes"), given=repr(comment.path)
        )
    if comment.at.tzinfo is None:
        raise InvalidMinutes("at", N_("must be an aware date and time"))
    stored = replace(comment, text=text, round=record.round)
    return replace(record, comments=(*record.comments, stored))


def finalise(minutes: Minutes) -> tuple[Minutes, str]:
    """The minutes exactly as stored (re-read from their canonical JSON, so what is kept is
    what was hashed) and their SHA-256."""
    stored = Minutes.from_json(minutes.to_json())
    return stored, stored.digest()


def finalise_record(record: MinutesRecord, roles: Iterable[str]) -> MinutesRecord:
    """Circulated → final: the text locked, its digest recorded."""
    check_step(record.state, S.FINAL, roles)
    stored, digest = finalise(record.minutes)
    return replace(record, minutes=stored, state=S.FINAL, digest=digest)
