"""Typed events between the control plane's features.

An operation's handler publishes what changed, after its transaction committed; the features
that care subscribe when the application starts. A lower layer (conferences) thus tells a higher
one (the live room) without importing it, and a reader finds every effect of a change by
looking for the event's subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from server.sent import Sent

log = logging.getLogger(__name__)

E = TypeVar("E")


@dataclass(frozen=True)
class RosterChanged:
    """A conference's sites, delegations, interpreters or languages changed."""

    conference_id: int


@dataclass(frozen=True)
class StatusChanged:
    """A conference's status changed (``status``: the new one; ``actor``: who changed it)."""

    conference_id: int
    status: str
    actor: str = ""


@dataclass(frozen=True)
class AgreementSigned:
    """A signatory signed an agreement at the ceremony; its ledger entry is committed at
    ``ledger_position`` (the recording marks the moment on its timeline)."""

    conference_id: int
    agreement_id: int
    signatory_id: int
    ledger_position: int


@dataclass(frozen=True)
class SigningChanged:
    """An agreement's signing ceremony changed (``state``: what ``signing.state`` carries to
    the room, docs/signalling.md)."""

    conference_id: int
    state: Sent


class Events:
    """Subscribers by event type; ``publish`` awaits each in turn. A subscriber's failure is
    logged and does not undo the change (it committed) nor stop the other subscribers."""

    def __init__(self) -> None:
        self._subscribers: dict[type[Any], list[Callable[[Any], Awaitable[None]]]] = {}

    def subscribe(self, kind: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        self._subscribers.setdefault(kind, []).append(handler)

    async def publish(self, event: object) -> None:
        for handler in self._subscribers.get(type(event), []):
            try:
                await handler(event)
            except Exception:
                log.exception("a subscriber of %s failed", type(event).__name__)
