"""Rate limits of the bridge room, kept per identity, per site and per room.

A limit kept on the connection resets whenever the client leaves and joins again, or opens a
new socket; these buckets are keyed by who acts (the user, or the invitation a guest came
through), by the site they speak for, and by the room whose events are written, so neither
reconnecting nor cycling ``leave``/``join`` buys a fresh allowance. Idle buckets (full again)
are forgotten, so memory follows the people active in the last minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from server.identity import Identity

Kind = Literal["events", "chat", "join", "room_events"]


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float


#: The documented limits (docs/signalling.md, "Limits").
RATES: dict[Kind, Rate] = {
    "events": Rate(20, 40),  # every event of one identity, all its connections together
    "chat": Rate(2, 4),  # chat messages of one identity, and of one site
    "join": Rate(0.5, 6),  # joins of one identity: reconnections pass, cycling does not
    "room_events": Rate(10, 30),  # events the control plane writes for one room
}


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens, self.stamp = burst, now


def identity_key(who: Identity) -> str:
    """Who acts: the user, or the invitation a guest came through (not the guest's session,
    which opening the link again renews)."""
    if who.guest is not None:
        return f"invitation:{who.guest.invitation_id}"
    if who.user_id is not None:
        return f"user:{who.user_id}"
    return f"session:{who.session_id}"


class Limits:
    def __init__(
        self,
        rates: dict[Kind, Rate] | None = None,
        clock: Callable[[], float] = time.monotonic,
        prune_every: float = 60.0,
    ) -> None:
        self._rates = {**RATES, **(rates or {})}
        self._clock = clock
        self._buckets: dict[tuple[Kind, str], _Bucket] = {}
        self._prune_every = prune_every
        self._pruned = clock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, kind: Kind, *keys: str) -> bool:
        """One action of ``kind`` by each of ``keys`` (for example the identity and the site):
        allowed only when every one of them has a token left; then one is spent from each."""
        now = self._clock()
        if now - self._pruned >= self._prune_every:
            self._prune(now)
        rate = self._rates[kind]
        buckets = []
        for key in keys:
            bucket = self._buckets.get((kind, key))
            if bucket is None:
                bucket = self._buckets[(kind, key)] = _Bucket(rate.burst, now)
            bucket.tokens = min(rate.burst, bucket.tokens + (now - bucket.stamp) * rate.per_second)
            bucket.stamp = now
            buckets.append(bucket)
        if any(b.tokens < 1 for b in buckets):
            return False
        for bucket in buckets:
            bucket.tokens -= 1
        return True

    def _prune(self, now: float) -> None:
        self._pruned = now
        for (kind, key), bucket in list(self._buckets.items()):
            rate = self._rates[kind]
            if bucket.tokens + (now - bucket.stamp) * rate.per_second >= rate.burst:
                del self._buckets[(kind, key)]
