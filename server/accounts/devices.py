"""The device cookie: a browser that signed in to an account before (OWASP's "device cookie").

After a successful sign-in the browser gets a signed cookie naming the account and a random
device identifier. A later sign-in to that account carrying the cookie is counted on its own by
the login throttle (``server.accounts.throttle``): guesses made from other devices never slow
it. The cookie proves nothing about the password, which is checked as always.

The cookie holds up to ``MAX_ACCOUNTS`` accounts (a shared office computer), newest first.
Accounts are named by a keyed hash of the e-mail address, not the address itself, so the
cookie does not tell who used the browser. It is signed with the application's secret key
(``server.signed_tokens.TokenSigner``) and lasts ``DEVICE_DAYS`` days from the last sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from server.signed_tokens import TokenSigner

DEVICE_DAYS = 180
MAX_ACCOUNTS = 5
PURPOSE = "device"

Entry = tuple[str, str, int]  # (account tag, device identifier, issued at, Unix seconds)


class DeviceCookies:
    def __init__(
        self, signer: TokenSigner, secret_key: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._signer = signer
        self._tag_key = hashlib.sha256(b"concord.device-account:" + secret_key.encode()).digest()
        self._clock = clock

    def _tag(self, email: str) -> str:
        account = email.strip().lower().encode()
        return hmac.new(self._tag_key, account, hashlib.sha256).hexdigest()[:24]

    def _entries(self, cookie: str | None) -> list[Entry]:
        if not cookie:
            return []
        value = self._signer.loads(PURPOSE, cookie)
        if not isinstance(value, list):
            return []
        oldest = self._clock() - DEVICE_DAYS * 86400
        entries: list[Entry] = []
        for item in value[:MAX_ACCOUNTS]:
            if (
                isinstance(item, list)
                and len(item) == 3
                and isinstance(item[0], str)
                and isinstance(item[1], str)
                and isinstance(item[2], int)
                and item[2] >= oldest
            ):
                entries.append((item[0], item[1], item[2]))
        return entries

    def device(self, cookie: str | None, email: str) -> str | None:
        """This browser's identifier for ``email``'s account, when its cookie is valid for it."""
        tag = self._tag(email)
        for account, device, _issued in self._entries(cookie):
            if hmac.compare_digest(account, tag):
                return device
        return None

    def issue(self, cookie: str | None, email: str) -> str:
        """The cookie's new value after ``email`` signed in: the account first (keeping its
        device identifier when it had one), the others after it."""
        tag = self._tag(email)
        kept = [entry for entry in self._entries(cookie) if entry[0] != tag]
        device = self.device(cookie, email) or secrets.token_urlsafe(16)
        entries = [(tag, device, int(self._clock())), *kept][:MAX_ACCOUNTS]
        return self._signer.dumps(PURPOSE, [list(entry) for entry in entries])
