"""Login rate limiting: failures counted per e-mail and per client address in a sliding window.

Kept in the process (one node owns a login); a multi-node deployment shares it through Redis
later. The clock is injectable so tests need not sleep.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable

from server.errors import RateLimited


class LoginThrottle:
    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window_seconds
        self._clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        stamps = self._failures[key]
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return deque()
        return stamps

    def check(self, email: str, address: str) -> None:
        """Raise RateLimited (with Retry-After) when this login may not be tried now."""
        for key, limit in (
            (f"e:{email.lower()}", self.per_account),
            (f"a:{address}", self.per_address),
        ):
            stamps = self._recent(key)
            if len(stamps) >= limit:
                wait = max(1, math.ceil(self.window - (self._clock() - stamps[0])))
                raise RateLimited(
                    f"too many failed sign-in attempts; try again in {wait} seconds",
                    headers={"Retry-After": str(wait)},
                )

    def failed(self, email: str, address: str) -> None:
        now = self._clock()
        self._failures[f"e:{email.lower()}"].append(now)
        self._failures[f"a:{address}"].append(now)

    def succeeded(self, email: str) -> None:
        self._failures.pop(f"e:{email.lower()}", None)

    def prune(self) -> None:
        """Forget failures older than the window (keys no one tries again would stay forever)."""
        for key in list(self._failures):
            self._recent(key)

    def __len__(self) -> int:
        return len(self._failures)
