"""The application factory: ``create_app(config)`` wires every part of the control plane."""

from __future__ import annotations

import functools
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from rooms.floor import Order
from server import healthz, openapi
from server.accounts import api as accounts_api
from server.accounts import pages as accounts_pages
from server.accounts.grants import LiveGrants
from server.accounts.passwords import Passwords
from server.accounts.reaper import SessionReaper
from server.accounts.sessions import identity_from_request
from server.accounts.socket_server import create_socket_server
from server.accounts.throttle import LoginThrottle, ReauthenticationLimit
from server.admin import pages as admin_pages
from server.agreements import api as agreements_api
from server.agreements import pages as agreements_pages
from server.agreements.live import SigningHandlers, broadcast
from server.archive import api as archive_api
from server.archive import pages as archive_pages
from server.calendars import api as calendars_api
from server.calendars.feeds import FeedCache
from server.calendars.send_locks import SendLocks
from server.cluster.membership import Clients, membership
from server.conferences import api as conferences_api
from server.conferences import pages as conferences_pages
from server.conferences import parts_api as conference_parts_api
from server.conferences import sessions_api as conference_sessions_api
from server.conferences.access import require_conference_role
from server.conferences.pages import CONFERENCE_PANELS, ConferencePanel
from server.config import Config
from server.db import Database
from server.events import AgreementSigned, Events, RosterChanged, SigningChanged, StatusChanged
from server.i18n import Catalogues
from server.ical.rendered import RenderedEvents
from server.invitations import api as invitations_api
from server.invitations import pages as invitations_pages
from server.keys import (
    ACCESS_RULES,
    CATALOGUES,
    CONFIG,
    DATABASE,
    EVENTS,
    FEED_CACHE,
    GRANTS,
    HANDOVER,
    HEALTH_HUB,
    LEDGER_SIGNER,
    LIVE_ROOMS,
    PASSWORDS,
    REAUTH_LIMIT,
    RECORDINGS,
    RENDERED_EVENTS,
    ROUTES,
    SEND_LOCKS,
    SIGNER,
    SOCKETS,
    THROTTLE,
)
from server.ledger import api as ledger_api
from server.ledger import pages as ledger_pages
from server.ledger.operations import ledger_signer
from server.live import pages as live_pages
from server.live.heartbeat import Heartbeat, node_of
from server.live.members import conference_room, site_room, still_here
from server.live.namespace import RoomNamespace
from server.live.registry import LiveRooms, close_if_ended
from server.middleware import GATEKEEPER, Gatekeeper, errors, guard
from server.minutes import api as minutes_api
from server.minutes import pages as minutes_pages
from server.monitoring import check_pages as monitoring_check_pages
from server.monitoring import memory, metrics
from server.monitoring import pages as monitoring_pages
from server.monitoring import report_pages as quality_pages
from server.monitoring.check_live import SiteCheckHandlers
from server.monitoring.health_live import HealthHandlers
from server.monitoring.hub import HealthHub, forget_if_ended
from server.monitoring.settings import health_settings
from server.permits import api as permits_api
from server.permits import pages as permits_pages
from server.permits import reapproval
from server.permits.clock import Procedure
from server.room_recording import pages as recording_pages
from server.room_recording.live import RecordingHandlers
from server.room_recording.service import RoomRecordings
from server.route_table import PUBLIC, RouteTable, Rule
from server.search import api as search_api
from server.search import pages as search_pages
from server.search.index import keep_index
from server.sent import Sent
from server.shutdown import announce_and_close
from server.signed_tokens import TokenSigner
from server.templating import setup_environment

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
VENDOR_DIR = ROOT / "node_modules"
TEMPLATES_DIR = Path(__file__).parent / "templates"
# socket.io authenticates in its connect handler (cookie or API token) and guards its own
# writes with the session id.
SOCKET_RULE = Rule("public", csrf=False)
FEATURES = (
    healthz,
    openapi,
    accounts_api,
    accounts_pages,
    admin_pages,
    conferences_api,
    conference_sessions_api,
    conference_parts_api,
    calendars_api,
    conferences_pages,
    invitations_api,
    invitations_pages,
    live_pages,
    metrics,
    memory,
    monitoring_pages,
    monitoring_check_pages,
    quality_pages,
    permits_api,
    permits_pages,
    ledger_api,
    ledger_pages,
    agreements_api,
    agreements_pages,
    minutes_api,
    minutes_pages,
    search_api,
    search_pages,
    archive_api,
    archive_pages,
    recording_pages,
)


def create_app(config: Config, *, migrate: bool = False) -> web.Application:
    """Build the application. With ``migrate`` the schema is upgraded when it starts."""
    app = web.Application(middlewares=[errors, guard], client_max_size=config.max_body_bytes)
    app[CONFIG] = config
    health = health_settings(config)
    app[GATEKEEPER] = Gatekeeper(identity_from_request, require_conference_role)
    panels: list[ConferencePanel] = [invitations_pages.conference_panel]
    app[CONFERENCE_PANELS] = panels  # (what features add to the conference page)
    app[CATALOGUES] = Catalogues()
    app[PASSWORDS] = Passwords.from_config(config)
    app[THROTTLE] = LoginThrottle()
    app[REAUTH_LIMIT] = ReauthenticationLimit()
    app[SIGNER] = TokenSigner(config.secret_key)
    app[FEED_CACHE] = FeedCache()
    app[RENDERED_EVENTS] = RenderedEvents()
    app[SEND_LOCKS] = SendLocks(lambda: app[DATABASE])
    app[LEDGER_SIGNER] = ledger_signer(config.data_dir, config.ledger_witness)

    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    setup_environment(env)

    table = RouteTable()
    for feature in FEATURES:
        feature.add_routes(table)
    app[ROUTES] = table
    rules: dict[web.AbstractRoute, Rule] = {}
    table.install(app, rules)
    app[ACCESS_RULES] = rules
    _add_static(app, rules)

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        database = keep_index(Database(config.database_url))
        app[DATABASE] = database
        if migrate:
            await database.upgrade()
        reaper = SessionReaper(database, app[THROTTLE], app[REAUTH_LIMIT])
        reaper.start()
        app[GRANTS].start()
        yield
        await app[GRANTS].close()
        await reaper.close()
        await database.close()

    app.cleanup_ctx.append(database_ctx)

    app[GRANTS] = LiveGrants(lambda: app[DATABASE])
    app[EVENTS] = Events()
    sockets = create_socket_server(
        config, lambda: app[DATABASE], lambda: app[GRANTS], lambda: app[LIVE_ROOMS].node_urls()
    )
    room_namespace = RoomNamespace(
        config, lambda: app[DATABASE], lambda: app[LIVE_ROOMS], lambda: app[GRANTS]
    )
    recording = RecordingHandlers(room_namespace, lambda: app[RECORDINGS])
    room_namespace.add_handlers(HealthHandlers(room_namespace, lambda: app[HEALTH_HUB]))
    room_namespace.add_handlers(SiteCheckHandlers(room_namespace, health.thresholds))
    room_namespace.add_handlers(SigningHandlers(room_namespace))
    room_namespace.add_handlers(recording)
    room_namespace.add_to_join("recording", recording.state)
    app[EVENTS].subscribe(SigningChanged, lambda e: broadcast(sockets, e.state))
    permit_procedure = Procedure.from_config(config)
    app[EVENTS].subscribe(
        RosterChanged,
        lambda e: reapproval.plan_changed(app[DATABASE], permit_procedure, e.conference_id),
    )
    sockets.register_namespace(room_namespace)
    sockets.attach(app)
    app[SOCKETS] = sockets
    for route in app.router.routes():
        if route.resource is not None and route.resource.canonical.startswith("/socket.io"):
            rules[route] = SOCKET_RULE

    async def live_ctx(app: web.Application) -> AsyncIterator[None]:
        order: Order = "time" if config.floor_order == "time" else "precedence"

        async def emit(payload: Sent, room: str) -> None:
            await room_namespace.tell(payload, room=room)

        async def tell_site(conference_id: int, site_id: int, payload: Sent) -> None:
            await room_namespace.tell(payload, room=site_room(conference_id, site_id))

        hub = HealthHub(app[DATABASE], emit, health.retention_days)
        rooms = LiveRooms(
            app[DATABASE],
            list(config.ice_host_addresses),
            room_namespace.publish,
            order,
            on_health=hub.report,
            thresholds=health.thresholds,
            tell_site=tell_site,
        )
        app[HEALTH_HUB], app[LIVE_ROOMS] = hub, rooms
        app[EVENTS].subscribe(
            RosterChanged, lambda e: room_namespace.roster_changed(e.conference_id)
        )
        app[EVENTS].subscribe(StatusChanged, lambda e: close_if_ended(rooms, e))
        app[EVENTS].subscribe(StatusChanged, lambda e: forget_if_ended(hub, e))
        node = node_of(config)
        heartbeat = Heartbeat(app[DATABASE], node, lambda: rooms.live())
        await heartbeat.start()  # first closes the rooms a stopped process left open
        rooms.watch(heartbeat)
        hub.start()
        rooms.start()
        recordings = RoomRecordings(
            app[DATABASE], rooms, app[LEDGER_SIGNER], config.data_dir, emit, node=node
        )
        app[RECORDINGS] = recordings
        app[EVENTS].subscribe(AgreementSigned, recordings.mark_signing)
        await recordings.start()
        yield
        await heartbeat.stop()
        await recordings.close()
        await rooms.close()
        await heartbeat.close()
        await hub.close()

    app.cleanup_ctx.append(live_ctx)

    async def node_ctx(app: web.Application) -> AsyncIterator[None]:
        # (after the rooms: a stopping node leaves its cluster before its rooms close)
        node = node_of(config)
        rooms = app[LIVE_ROOMS]

        async def tell(conference_id: int, payload: Sent) -> None:
            await room_namespace.tell(payload, room=conference_room(conference_id))

        clients = Clients(tell, lambda conference_id: still_here(rooms.get(conference_id)))
        drain = functools.partial(signal.raise_signal, signal.SIGTERM)  # (then: the handover)
        events = app[EVENTS]
        async with membership(
            config, node, rooms, app[THROTTLE], clients, drain, events
        ) as handover:
            if handover is not None:
                app[HANDOVER] = handover
            yield

    app.cleanup_ctx.append(node_ctx)
    metrics.setup(app)

    async def sockets_ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await sockets.shutdown()

    app.cleanup_ctx.append(sockets_ctx)
    # Before the cleanup contexts (sockets, then rooms and peer connections, then the
    # database): tell every client to come back, finish the recordings, close the sockets.
    app.on_shutdown.append(announce_and_close)
    return app


def _add_static(app: web.Application, rules: dict[web.AbstractRoute, Rule]) -> None:
    resource = app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
    vendor = VENDOR_DIR / "socket.io-client" / "dist"
    if vendor.is_dir():
        app.router.add_static("/vendor/socket.io/", vendor, name="vendor_socketio")
    uplot = VENDOR_DIR / "uplot" / "dist"
    if uplot.is_dir():
        app.router.add_static("/vendor/uplot/", uplot, name="vendor_uplot")
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource else ""
        if route.resource is resource or canonical.startswith("/vendor/"):
            rules[route] = PUBLIC
