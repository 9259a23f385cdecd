"""TURN for locked-down networks: short-lived credentials from a secret shared with coturn.

A site whose network lets no UDP out (or only to port 443) cannot reach the server's ICE
candidates; it can reach a TURN server over TCP or TLS, which relays its media to the server.
Concord does not run the TURN server: an operator runs coturn beside it (README, "TURN for
locked-down networks") with ``use-auth-secret`` and ``static-auth-secret=<the same secret>``,
coturn's implementation of the TURN REST API scheme (draft-uberti-rtcweb-turn-rest):

- the username is ``<expiry as a unix time>:<who>``;
- the password is base64(HMAC-SHA1(secret, username)).

coturn recomputes the password from the username and its own copy of the secret, and refuses
an allocation once the expiry has passed; an allocation made in time lives on (coturn checks
the credentials when it is created). So the secret never leaves the server, and a credential
copied out of a page is useless after its expiry. Every page and every join answer gets fresh
ones (see :func:`server.live.ice.ice_servers`).

| setting | variable | default |
|---|---|---|
| the secret shared with coturn | ``CONCORD_TURN_SECRET`` | none (no TURN) |
| coturn's URLs, comma-separated | ``CONCORD_TURN_URLS`` | none |
| credentials' lifetime, seconds | ``CONCORD_TURN_TTL`` | 43200 (12 hours) |

For example ``CONCORD_TURN_URLS=turn:turn.example.org:3478?transport=tcp,
turns:turn.example.org:443?transport=tcp`` (one line).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SETTINGS = {
    "turn_secret": "CONCORD_TURN_SECRET",
    "turn_urls": "CONCORD_TURN_URLS",
    "turn_ttl": "CONCORD_TURN_TTL",
}
DEFAULT_TTL = 12 * 3600  # a conference day: a page joined in the morning still relays at night
MIN_TTL, MAX_TTL = 60, 7 * 24 * 3600
MIN_SECRET = 16
TRANSPORTS = ("udp", "tcp")


@dataclass(frozen=True)
class Turn:
    """The TURN server(s) Concord hands out credentials for, and the shared secret."""

    secret: str
    urls: tuple[str, ...]
    ttl: int = DEFAULT_TTL

    def credentials(self, who: str, now: float | None = None) -> tuple[str, str]:
        """(username, password) for ``who``, valid for ``ttl`` seconds from ``now``."""
        return credentials(self.secret, who, self.ttl, time.time() if now is None else now)

    def ice_server(self, who: str, now: float | None = None) -> dict[str, Any]:
        """The ``RTCIceServer`` a browser is given: the URLs and fresh credentials."""
        username, password = self.credentials(who, now)
        return {"urls": list(self.urls), "username": username, "credential": password}

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"Turn(urls={self.urls!r}, ttl={self.ttl})"


def credentials(secret: str, who: str, ttl: int, now: float) -> tuple[str, str]:
    """coturn's ``use-auth-secret`` credentials: username ``<expiry>:<who>``, password
    base64(HMAC-SHA1(secret, username))."""
    if ":" in who:
        raise ValueError(f"the holder {who!r} must not contain ':' (it ends the expiry)")
    username = f"{int(now) + ttl}:{who}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def check_url(url: str) -> str | None:
    """What is wrong with a TURN URL (RFC 7065: ``turn[s]:host[:port][?transport=udp|tcp]``),
    or None."""
    scheme, sep, rest = url.partition(":")
    if not sep or scheme not in ("turn", "turns"):
        return "must start with turn: or turns:"
    if rest.startswith("//"):
        return "takes no '//' (turn:host:port, not turn://host)"
    address, _, query = rest.partition("?")
    if query:
        key, _, value = query.partition("=")
        if key != "transport" or value not in TRANSPORTS:
            return "may only end with ?transport=udp or ?transport=tcp"
        if scheme == "turns" and value == "udp":
            return "turns: runs over TLS, so its transport is tcp"
    if address.startswith("["):
        host, bracket, after = address[1:].partition("]")
        if not bracket:
            return "has an IPv6 address without its closing ']'"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"has {host!r}, which is not an IPv6 address"
        if after and not after.startswith(":"):
            return "has something after its IPv6 address that is not ':port'"
        port = after[1:]
    else:
        host, _, port = address.partition(":")
    if not host or any(c in host for c in "/@ "):
        return "needs a host name or address"
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "has a port that is not a number from 1 to 65535"
    return None


def read(
    raw: dict[str, tuple[Any, str]],
    text: Callable[[str, str | None], str | None],
    integer: Callable[[str, int, int, int], int],
    problems: list[str],
) -> Turn | None:
    """The TURN settings, or None when TURN is not configured; problems are appended, named."""
    secret = text("turn_secret", None) or None
    ttl = integer("turn_ttl", DEFAULT_TTL, MIN_TTL, MAX_TTL)
    urls: list[str] = []
    if "turn_urls" in raw:
        value, where = raw["turn_urls"]
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, list | tuple):
            problems.append(f"{where} must be a comma-separated list of turn: or turns: URLs")
            entries = []
        for entry in entries:
            url = str(entry).strip()
            if not url:
                continue
            wrong = check_url(url)
            if wrong is not None:
                problems.append(f"{where}: {url!r} {wrong}")
            urls.append(url)
    if secret is not None and len(secret) < MIN_SECRET:
        problems.append(
            f"{SETTINGS['turn_secret']} must be at least {MIN_SECRET} characters long "
            "(the same secret as coturn's static-auth-secret)"
        )
    if secret is not None and not urls:
        problems.append(f"{SETTINGS['turn_secret']} is set but {SETTINGS['turn_urls']} is not")
    if urls and secret is None:
        problems.append(
            f"{SETTINGS['turn_urls']} is set but {SETTINGS['turn_secret']} is not "
            "(coturn's static-auth-secret, to make the credentials)"
        )
    if secret is None or not urls:
        return None
    return Turn(secret=secret, urls=tuple(urls), ttl=ttl)
