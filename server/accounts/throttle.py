"""Throttles for password guessing: progressive delays at sign-in, a strict limit at signing.

Sign-in (``LoginThrottle``) slows an attacker without locking the owner out. Nothing is ever a
hard lock: after a few free failures each further failure doubles the wait before the next
attempt is even checked (capped), and the wait is answered 429 with ``Retry-After``. Failures
are counted on several keys at once, and an attempt waits for the longest of its keys:

- with a valid device cookie for the account (``server.accounts.devices``: this browser signed
  in to this account before), only that device's own failures count: guesses made elsewhere
  never slow it, and its own mistakes still do;
- otherwise, per (account, client address); per client address across every account (a much
  higher ceiling, also progressive); and per account across every client without a device
  cookie, so that many addresses guessing one password together are slowed too (OWASP's
  "device cookie" scheme: the owner's known browsers are unaffected by that key).

A key's failures are forgotten after an hour without any, and a successful sign-in forgets
those of its own device or (account, address). The number of keys kept is capped (the oldest
are dropped first), so a flood of invented accounts or addresses cannot exhaust memory.

Signing re-authentication (``ReauthenticationLimit``) keeps its own, separate and strict limit.

Both live in the process. Nodes of a cluster share the sign-in throttle's failures and
successes through Redis (``server.cluster.throttle_sync``: each node tells the others of its
own, ``LoginThrottle.on_change``, and applies theirs), so guessing on every node at once is
slowed as on one. The clock is injectable so tests need not sleep.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import RateLimited
from server.i18n_strings import N_

Clock = Callable[[], float]
Key = tuple[str, ...]
#: What a throttle tells of its own sign-ins: ("failed" or "succeeded", e-mail, address, device).
Change = Callable[[str, str, str, str | None], None]

#: Keys kept at most by one throttle; beyond it the stalest are forgotten first.
MAX_KEYS = 100_000


class SignInThrottled(RateLimited):
    """A sign-in that must wait; ``retry_after`` (seconds) lets a page say how long."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("too many failed sign-in attempts; try again in %(seconds)s seconds"),
            headers={"Retry-After": str(retry_after)},
            params={"seconds": str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    """``free`` failures cost nothing; failure ``free + n`` makes the next attempt wait
    ``base * 2**(n - 1)`` seconds, never more than ``cap``."""

    free: int
    base: float = 2.0
    cap: float = 900.0

    def wait(self, failures: int) -> float:
        extra = failures - self.free
        if extra <= 0:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(extra - 1, 32))


#: One account from one address, or from one known device: the owner's own mistakes.
PER_CLIENT = Backoff(free=4)
#: Every account from one address (a NAT or an office shares it): a much higher ceiling.
PER_ADDRESS = Backoff(free=40)
#: One account from every client without its device cookie (guessing spread over addresses).
PER_ACCOUNT_UNKNOWN_DEVICES = Backoff(free=10)


class LoginThrottle:
    def __init__(
        self,
        *,
        per_client: Backoff = PER_CLIENT,
        per_address: Backoff = PER_ADDRESS,
        per_account: Backoff = PER_ACCOUNT_UNKNOWN_DEVICES,
        forget_after: float = 3600.0,
        max_keys: int = MAX_KEYS,
        clock: Clock = time.monotonic,
        on_change: Change | None = None,
    ) -> None:
        self.per_client = per_client
        self.on_change = on_change  # told of this node's own sign-ins (not of those applied)
        self.per_address = per_address
        self.per_account = per_account
        self.forget_after = max(forget_after, per_client.cap, per_address.cap, per_account.cap)
        self.max_keys = max_keys
        self._clock = clock
        # key -> (failures, time of the last one); ordered from the stalest to the latest.
        self._failures: OrderedDict[Key, tuple[int, float]] = OrderedDict()

    def _keys(self, email: str, address: str, device: str | None) -> list[tuple[Key, Backoff]]:
        account = email.strip().lower()
        if device is not None:
            return [(("device", account, device), self.per_client)]
        return [
            (("client", account, address), self.per_client),
            (("address", address), self.per_address),
            (("account", account), self.per_account),
        ]

    def _get(self, key: Key, now: float) -> tuple[int, float] | None:
        found = self._failures.get(key)
        if found is not None and now - found[1] > self.forget_after:
            del self._failures[key]
            return None
        return found

    def retry_after(self, email: str, address: str, device: str | None = None) -> int:
        """Seconds this sign-in must still wait (0: it may be checked now)."""
        now = self._clock()
        longest = 0.0
        for key, backoff in self._keys(email, address, device):
            found = self._get(key, now)
            if found is not None:
                failures, last = found
                longest = max(longest, last + backoff.wait(failures) - now)
        return math.ceil(longest) if longest > 0 else 0

    def failures(self, email: str, address: str, device: str | None = None) -> int:
        """The failures counted for this client's own key (the device's, or the account's
        from this address) and not yet forgotten."""
        key, _backoff = self._keys(email, address, device)[0]
        found = self._get(key, self._clock())
        return found[0] if found else 0

    def check(self, email: str, address: str, device: str | None = None) -> None:
        """Raise ``SignInThrottled`` (429, with Retry-After) when this sign-in must wait.

        ``device`` is the device cookie's identifier, given only when the cookie is valid for
        this account."""
        wait = self.retry_after(email, address, device)
        if wait > 0:
            raise SignInThrottled(wait)

    def failed(
        self, email: str, address: str, device: str | None = None, *, told: bool = True
    ) -> None:
        """Count a failed sign-in (``told``: tell ``on_change``; not for another node's)."""
        if told and self.on_change is not None:
            self.on_change("failed", email, address, device)
        now = self._clock()
        for key, _backoff in self._keys(email, address, device):
            found = self._get(key, now)
            self._failures[key] = ((found[0] if found else 0) + 1, now)
            self._failures.move_to_end(key)
        self._bound()

    def succeeded(
        self, email: str, address: str, device: str | None = None, *, told: bool = True
    ) -> None:
        """Forget this client's own failures; those counted per address and per account stay
        (an attacker who knows one password must not reset the others' counts)."""
        if told and self.on_change is not None:
            self.on_change("succeeded", email, address, device)
        for key, _backoff in self._keys(email, address, device):
            if key[0] in ("device", "client"):
                self._failures.pop(key, None)

    def _bound(self) -> None:
        if len(self._failures) <= self.max_keys:
            return
        self.prune()
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def prune(self) -> None:
        """Forget keys without a failure for ``forget_after`` seconds."""
        now = self._clock()
        while self._failures:
            key, (_failures, last) = next(iter(self._failures.items()))
            if now - last <= self.forget_after:
                break
            del self._failures[key]

    def __len__(self) -> int:
        return len(self._failures)


class ReauthenticationLimit:
    """Signing re-authentication: ``limit`` failures per signatory (their account) within
    ``window_seconds``, then a hard stop until the oldest failure leaves the window.

    A hard stop is acceptable here, unlike at sign-in, because only someone already signed in
    and let onto that signatory's signing can spend these attempts (the signatory, a session at
    the signatory's site, or the conference's organisers and technicians), each failure is
    audited with who made it, and it cannot be reached from outside to lock anyone out. It is
    kept apart from the sign-in throttle: failures here do not slow signing in, and failures at
    sign-in do not block signing.
    """

    def __init__(
        self,
        *,
        limit: int = 5,
        window_seconds: float = 900.0,
        max_keys: int = MAX_KEYS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def check(self, key: str) -> None:
        """Raise ``RateLimited`` (429, with Retry-After) once ``key`` has used its attempts."""
        now = self._clock()
        stamps = self._recent(key, now)
        if len(stamps) >= self.limit:
            wait = max(1, math.ceil(self.window - (now - stamps[0])))
            raise RateLimited(
                N_("too many failed re-authentications; try again in %(seconds)s seconds"),
                headers={"Retry-After": str(wait)},
                params={"seconds": str(wait)},
            )

    def failed(self, key: str) -> None:
        now = self._clock()
        stamps = self._recent(key, now)
        if not stamps:
            self._failures[key] = stamps = deque(maxlen=self.limit)
        stamps.append(now)
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def prune(self) -> None:
        """Forget keys whose failures have all left the window."""
        now = self._clock()
        for key in list(self._failures):
            self._recent(key, now)

    def __len__(self) -> int:
        return len(self._failures)
