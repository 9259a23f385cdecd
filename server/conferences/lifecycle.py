"""A conference's lifecycle as an explicit state machine: which step may follow which, and who
may take it.

    draft → awaiting_approval → approved → scheduled → live → ended → archived
    cancelled: from any state before ended

An application that needs changes goes back from awaiting_approval to draft (withdrawn by its
organiser or sent back by the approver). An approved or scheduled conference whose plan changes
materially goes back to awaiting_approval: a step nobody takes by hand (``AUTOMATIC``; the
permit feature takes it, ``operations.return_for_approval``). Pure: the operation that
changes the status is ``operations.change_status``.
"""

from __future__ import annotations

from server.models import ConferenceStatus, Role

S = ConferenceStatus

#: For each status, the statuses it may go to and the roles that may take each step (a role
#: in the conference; for ``approver`` the user's own role, see ``operations.acting_roles``).
TRANSITIONS: dict[ConferenceStatus, dict[ConferenceStatus, frozenset[Role]]] = {
    S.DRAFT: {
        S.AWAITING_APPROVAL: frozenset({Role.ORGANISER}),
        S.CANCELLED: frozenset({Role.ORGANISER}),
    },
    S.AWAITING_APPROVAL: {
        S.APPROVED: frozenset({Role.APPROVER}),
        S.DRAFT: frozenset({Role.ORGANISER, Role.APPROVER}),
        S.CANCELLED: frozenset({Role.ORGANISER}),
    },
    S.APPROVED: {
        S.SCHEDULED: frozenset({Role.ORGANISER}),
        S.CANCELLED: frozenset({Role.ORGANISER}),
    },
    S.SCHEDULED: {
        S.LIVE: frozenset({Role.ORGANISER, Role.TECHNICIAN}),
        S.CANCELLED: frozenset({Role.ORGANISER}),
    },
    S.LIVE: {
        S.ENDED: frozenset({Role.ORGANISER, Role.TECHNICIAN}),
        S.CANCELLED: frozenset({Role.ORGANISER}),
    },
    S.ENDED: {S.ARCHIVED: frozenset({Role.ORGANISER, Role.SECRETARY})},
    S.ARCHIVED: {},
    S.CANCELLED: {},
}

#: Steps Concord takes itself, never a person: back to approval after a material change.
AUTOMATIC: dict[ConferenceStatus, frozenset[ConferenceStatus]] = {
    S.APPROVED: frozenset({S.AWAITING_APPROVAL}),
    S.SCHEDULED: frozenset({S.AWAITING_APPROVAL}),
}

#: Every role that takes some step: anyone else is refused before a step is looked at.
ACTORS = frozenset(role for steps in TRANSITIONS.values() for who in steps.values() for role in who)

#: Statuses in which the bridge room is closed (entering one ends the live room).
ROOM_CLOSED = frozenset({S.ENDED, S.ARCHIVED, S.CANCELLED})

#: Statuses in which the plan (sessions, sites, delegations, interpreters) may change.
EDITABLE = frozenset({S.DRAFT, S.AWAITING_APPROVAL, S.APPROVED, S.SCHEDULED, S.LIVE})


def next_statuses(current: ConferenceStatus) -> list[ConferenceStatus]:
    """The statuses a conference in ``current`` may go to, in lifecycle order."""
    allowed = TRANSITIONS[current]
    return [status for status in ConferenceStatus if status in allowed]


def is_allowed(current: ConferenceStatus, wanted: ConferenceStatus) -> bool:
    return wanted in TRANSITIONS[current]


def who_may(current: ConferenceStatus, wanted: ConferenceStatus) -> frozenset[Role]:
    """The roles that may take the step (empty when the step does not exist)."""
    return TRANSITIONS[current].get(wanted, frozenset())
