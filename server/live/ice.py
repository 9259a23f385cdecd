"""The ICE servers handed to a browser: the configured STUN/TURN servers (``CONCORD_ICE_SERVERS``)
and, when coturn shares a secret with Concord (:mod:`server.turn`), a TURN entry with fresh
credentials made for whoever asks (a page, a join, a site check). The secret itself never leaves
the server."""

from __future__ import annotations

from typing import Any

from server.config import Config
from server.identity import Identity


def holder(who: Identity) -> str:
    """Who the TURN credentials are for, as coturn logs it (``<expiry>:<holder>``): the
    invitation of a guest, else the session (or API token) of a signed-in user."""
    if who.guest is not None:
        return f"invitation-{who.guest.invitation_id}"
    if who.session_id is not None:
        return f"session-{who.session_id}"
    if who.token_id is not None:
        return f"token-{who.token_id}"
    if who.user_id is not None:
        return f"user-{who.user_id}"
    return "anonymous"


def ice_servers(config: Config, who: Identity, now: float | None = None) -> list[dict[str, Any]]:
    """``RTCIceServer`` dictionaries for ``who``: the static ones, then TURN's (if any)."""
    servers = [s.as_dict() for s in config.ice_servers]
    if config.turn is not None:
        servers.append(config.turn.ice_server(holder(who), now))
    return servers
