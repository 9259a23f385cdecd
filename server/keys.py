"""Typed keys for what the application holds (aiohttp ``AppKey``s) and per-request values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import socketio
    from babel.support import NullTranslations

    from recordings.ledger.tree_head import TreeHeadSigner
    from server.accounts.grants import LiveGrants
    from server.accounts.passwords import Passwords
    from server.accounts.throttle import LoginThrottle, ReauthenticationLimit
    from server.calendars.feeds import FeedCache
    from server.calendars.send_locks import SendLocks
    from server.cluster.handover import Handover
    from server.config import Config
    from server.db import Database
    from server.events import Events
    from server.i18n import Catalogues
    from server.ical.rendered import RenderedEvents
    from server.identity import Identity
    from server.live.registry import LiveRooms
    from server.monitoring.hub import HealthHub
    from server.monitoring.metrics import Metrics
    from server.room_recording.service import RoomRecordings
    from server.route_table import RouteTable, Rule
    from server.signed_tokens import TokenSigner

CONFIG: web.AppKey[Config] = web.AppKey("config")
DATABASE: web.AppKey[Database] = web.AppKey("database")
ROUTES: web.AppKey[RouteTable] = web.AppKey("routes")
ACCESS_RULES: web.AppKey[dict[web.AbstractRoute, Rule]] = web.AppKey("access_rules")
CATALOGUES: web.AppKey[Catalogues] = web.AppKey("catalogues")
#: Typed events between features (``server.events``).
EVENTS: web.AppKey[Events] = web.AppKey("events")
#: Live connections' grants, ended when withdrawn (``server.accounts.grants``).
GRANTS: web.AppKey[LiveGrants] = web.AppKey("live_grants")
THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("login_throttle")
#: Signing re-authentication's own strict limit, apart from the sign-in throttle.
REAUTH_LIMIT: web.AppKey[ReauthenticationLimit] = web.AppKey("reauthentication_limit")
PASSWORDS: web.AppKey[Passwords] = web.AppKey("passwords")
SIGNER: web.AppKey[TokenSigner] = web.AppKey("signer")
SOCKETS: web.AppKey[socketio.AsyncServer] = web.AppKey("socketio")
LIVE_ROOMS: web.AppKey[LiveRooms] = web.AppKey("live_rooms")
HEALTH_HUB: web.AppKey[HealthHub] = web.AppKey("health_hub")
RECORDINGS: web.AppKey[RoomRecordings] = web.AppKey("recordings")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
FEED_CACHE: web.AppKey[FeedCache] = web.AppKey("calendar_feed_cache")
RENDERED_EVENTS: web.AppKey[RenderedEvents] = web.AppKey("rendered_calendar_events")
SEND_LOCKS: web.AppKey[SendLocks] = web.AppKey("calendar_send_locks")
#: In a cluster: hands this node's rooms to the others when it stops (server.shutdown).
HANDOVER: web.AppKey[Handover] = web.AppKey("handover")
#: The ledger's Ed25519 key (``server.ledger.operations.ledger_signer``).
LEDGER_SIGNER: web.AppKey[TreeHeadSigner] = web.AppKey("ledger_signer")

# Request-scoped values, set by server.middleware.guard.
IDENTITY: web.RequestKey[Identity] = web.RequestKey("identity")
LOCALE: web.RequestKey[str] = web.RequestKey("locale")
TRANSLATIONS: web.RequestKey[NullTranslations] = web.RequestKey("translations")
PRE_SESSION_CSRF: web.RequestKey[str] = web.RequestKey("pre_session_csrf")
