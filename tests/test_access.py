"""Who may call every route: a table that must list each route the app registers.

A new route with no row here fails ``test_every_route_has_a_row``; each row states which
personas may call it, and ``test_access_rules_hold`` checks that against the running app for
every persona: anonymous, each role's demo user (by API token), and an invited guest.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import CookieJar, DummyCookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.accounts import operations as accounts
from server.accounts.identity import Identity
from server.db import Database
from server.keys import ACCESS_RULES
from server.models import User
from tests.conftest import sign_in

Client = TestClient[Any, Any]

USERS = ("admin", "organiser", "approver", "technician", "interpreter", "secretary", "delegate")
EMAIL = {
    "admin": "admin@concord.example",
    "organiser": "organiser@concord.example",
    "approver": "approver@concord.example",
    "technician": "technician@concord.example",
    "interpreter": "interpreter.lo@concord.example",
    "secretary": "secretary@concord.example",
    "delegate": "delegate@concord.example",
}
EVERYONE = frozenset({"anonymous", "guest", *USERS})
SIGNED_IN = EVERYONE - {"anonymous"}
ANY_USER = frozenset(USERS)
ADMIN = frozenset({"admin"})
# Conference 1 (the MoU): organised by the organiser; technician, secretary and interpreters
# are members; the guest is invited to it; the demo delegate belongs to conference 2 only.
# Approvers read every conference past its draft (conference 1 has ended).
CONF1 = frozenset(
    {"admin", "organiser", "approver", "technician", "interpreter", "secretary", "guest"}
)
CONF1_ORGANISERS = frozenset({"admin", "organiser"})
CONF1_CHAIRS = frozenset({"admin", "organiser", "technician"})
CONF1_EDITORS = frozenset({"admin", "organiser", "secretary"})  # agreements
RECORDINGS = frozenset({"admin", "organiser", "technician", "secretary"})
CONF1_HOLDERS = frozenset({"admin", "organiser", "secretary"})

# Permit applications: the route admits these roles; each application then admits only its
# conference's organisers and (once submitted) approvers.
PERMITS = frozenset({"admin", "organiser", "approver"})
PERMIT_APPLICANTS = frozenset({"admin", "organiser"})
APPROVERS = frozenset({"admin", "approver"})

C = "/api/conferences/{conference_id}"
P = "/api/permits/{application_id}"
AG = C + "/agreements/{agreement_id}"
M = C + "/minutes"
MINUTES = frozenset({"admin", "organiser", "secretary"})
ROUTES: list[tuple[str, str, frozenset[str]]] = [
    ("GET", "/healthz", EVERYONE),
    ("GET", "/metrics", EVERYONE),  # from 127.0.0.1: the default CONCORD_METRICS_ALLOW
    ("GET", "/api/openapi.json", EVERYONE),
    ("POST", "/api/session", EVERYONE),
    ("GET", "/api/session", SIGNED_IN),
    ("PATCH", "/api/me", ANY_USER),
    ("GET", "/api/tokens", ANY_USER),
    ("POST", "/api/tokens", ANY_USER),
    ("DELETE", "/api/tokens/{token_id}", ANY_USER),
    ("GET", "/api/users", ADMIN),
    ("POST", "/api/users", ADMIN),
    ("PATCH", "/api/users/{user_id}", ADMIN),
    ("POST", "/admin/users/{user_id}", ADMIN),
    ("GET", "/api/conferences", SIGNED_IN),
    ("GET", C, CONF1),
    ("POST", "/api/conferences", frozenset({"admin", "organiser"})),
    ("PATCH", C, CONF1_ORGANISERS),
    ("DELETE", C, CONF1_ORGANISERS),  # conference 1 has ended: refused with 409, not deleted
    (
        "POST",
        C + "/status",
        frozenset({"admin", "organiser", "approver", "technician", "secretary"}),
    ),
    ("GET", C + "/sessions", CONF1),
    ("POST", C + "/sessions", CONF1_ORGANISERS),
    ("GET", C + "/sessions/{session_id}", CONF1),
    ("PATCH", C + "/sessions/{session_id}", CONF1_ORGANISERS),
    ("DELETE", C + "/sessions/{session_id}", CONF1_ORGANISERS),
    ("GET", C + "/occurrences", CONF1),
    # Calendars: the conference's .ics, personal feeds (the token is the credential),
    # invitations by e-mail and import.
    ("GET", C + "/calendar.ics", CONF1),
    ("GET", "/calendar/{token}.ics", EVERYONE),
    ("GET", "/api/me/calendar-feeds", ANY_USER),
    ("POST", "/api/me/calendar-feeds", ANY_USER),
    ("DELETE", "/api/me/calendar-feeds/{feed_id}", ANY_USER),
    ("POST", C + "/calendar-invitations", CONF1_ORGANISERS),
    ("GET", C + "/sessions/{session_id}/invitation.ics", CONF1_ORGANISERS),
    ("POST", C + "/sessions/import", CONF1_ORGANISERS),
    ("GET", "/api/venues", frozenset({"admin", "organiser"})),
    ("POST", C + "/sites", CONF1_ORGANISERS),
    ("PATCH", C + "/sites/{site_id}", CONF1_ORGANISERS),
    ("DELETE", C + "/sites/{site_id}", CONF1_ORGANISERS),
    ("POST", C + "/delegations", CONF1_ORGANISERS),
    ("PATCH", C + "/delegations/{delegation_id}", CONF1_ORGANISERS),
    ("DELETE", C + "/delegations/{delegation_id}", CONF1_ORGANISERS),
    ("POST", C + "/interpreters", CONF1_ORGANISERS),
    ("PATCH", C + "/interpreters/{assignment_id}", CONF1_ORGANISERS),
    ("DELETE", C + "/interpreters/{assignment_id}", CONF1_ORGANISERS),
    ("GET", C + "/invitations", CONF1_ORGANISERS),
    ("POST", C + "/invitations", CONF1_ORGANISERS),
    ("DELETE", C + "/invitations/{invitation_id}", CONF1_ORGANISERS),
    ("GET", "/login", EVERYONE),
    ("POST", "/login", EVERYONE),
    ("POST", "/language", EVERYONE),
    ("GET", "/account", ANY_USER),
    ("POST", "/account/profile", ANY_USER),
    ("POST", "/account/tokens", ANY_USER),
    ("POST", "/account/tokens/{token_id}/revoke", ANY_USER),
    ("GET", "/admin/users", ADMIN),
    ("POST", "/admin/users", ADMIN),
    ("GET", "/", SIGNED_IN),
    ("GET", "/conferences/{conference_id}", CONF1),
    ("GET", "/conferences/{conference_id}/room", CONF1_CHAIRS | {"guest"}),
    ("GET", "/conferences/{conference_id}/console", CONF1_CHAIRS),
    ("GET", "/conferences/{conference_id}/health", CONF1_CHAIRS),
    # A guest checks its invitation's site; organisers and technicians any site (?site=ID).
    ("GET", "/conferences/{conference_id}/check", CONF1_CHAIRS | {"guest"}),
    ("GET", "/conferences/{conference_id}/readiness", CONF1_CHAIRS),
    ("GET", "/conferences/{conference_id}/quality", CONF1_CHAIRS),
    ("GET", "/conferences/{conference_id}/quality.csv", CONF1_CHAIRS),
    # Only the interpreters assigned to that booth (admins have the role but no booth).
    ("GET", "/conferences/{conference_id}/booth/{language}", frozenset({"interpreter"})),
    ("POST", "/conferences/{conference_id}/invitations", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/invitations/{invitation_id}/revoke", CONF1_ORGANISERS),
    ("GET", "/join/{token}", EVERYONE),
    # Scheduling pages: the editor and its forms for organisers, the timetable for everyone
    # in the conference, the month calendar for everyone signed in.
    ("GET", "/conferences/new", frozenset({"admin", "organiser"})),
    ("POST", "/conferences/new", frozenset({"admin", "organiser"})),
    ("GET", "/conferences/{conference_id}/edit", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/edit", CONF1_ORGANISERS),
    (
        "POST",
        "/conferences/{conference_id}/status",
        frozenset({"admin", "organiser", "approver", "technician", "secretary"}),
    ),
    ("POST", "/conferences/{conference_id}/sites", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/sites/{site_id}/remove", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/sessions", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/sessions/{session_id}", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/sessions/{session_id}/remove", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/interpreters", CONF1_ORGANISERS),
    (
        "POST",
        "/conferences/{conference_id}/interpreters/{assignment_id}/remove",
        CONF1_ORGANISERS,
    ),
    ("GET", "/conferences/{conference_id}/timetable", CONF1),
    ("GET", "/calendar", SIGNED_IN),
    ("GET", "/calendar/week", SIGNED_IN),
    # Permits: organisers apply (for their own conferences), approvers decide.
    ("GET", "/api/permits", PERMITS),
    ("GET", "/api/permits/report", PERMITS),
    ("POST", C + "/permits", CONF1_ORGANISERS),
    ("GET", P, PERMITS),
    ("PATCH", P, PERMIT_APPLICANTS),
    ("POST", P + "/submit", PERMIT_APPLICANTS),
    ("POST", P + "/withdraw", PERMIT_APPLICANTS),
    ("POST", P + "/decision", APPROVERS),
    ("POST", P + "/attachments", PERMIT_APPLICANTS),
    ("GET", P + "/attachments/{attachment_id}", PERMITS),
    ("DELETE", P + "/attachments/{attachment_id}", PERMIT_APPLICANTS),
    ("GET", P + "/decision.pdf", PERMITS),
    ("GET", "/conferences/{conference_id}/permit", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/permit", CONF1_ORGANISERS),
    ("GET", "/permits", PERMITS),
    ("GET", "/permits/report", PERMITS),
    ("GET", "/permits/{application_id}", PERMITS),
    ("POST", "/permits/{application_id}", PERMIT_APPLICANTS),
    ("POST", "/permits/{application_id}/submit", PERMIT_APPLICANTS),
    ("POST", "/permits/{application_id}/withdraw", PERMIT_APPLICANTS),
    ("POST", "/permits/{application_id}/decision", APPROVERS),
    ("POST", "/permits/{application_id}/attachments", PERMIT_APPLICANTS),
    ("GET", "/permits/{application_id}/attachments/{attachment_id}", PERMITS),
    ("POST", "/permits/{application_id}/attachments/{attachment_id}/remove", PERMIT_APPLICANTS),
    ("GET", "/permits/{application_id}/decision", PERMITS),
    ("GET", "/permits/{application_id}/decision.pdf", PERMITS),
    # The ledger: public verification (entries carry only ids, outcomes, times and hashes).
    ("GET", "/.well-known/concord-ledger-key.pem", EVERYONE),
    ("GET", "/api/ledger/heads/latest", EVERYONE),
    ("GET", "/api/ledger/entries/{position}", EVERYONE),
    ("GET", "/ledger/{position}", EVERYONE),
    ("GET", "/api/search", SIGNED_IN),
    # Minutes: the routes admit users; each conference's minutes admit their secretary and
    # organiser, and members of its delegations (none in the demo) once circulated. Comments
    # are then refused by the operation to anyone outside a delegation.
    ("GET", M, MINUTES),
    ("POST", M, MINUTES),
    ("PUT", M, MINUTES),
    ("POST", M + "/attendance", MINUTES),
    ("POST", M + "/circulate", MINUTES),
    ("POST", M + "/draft", MINUTES),
    ("POST", M + "/final", CONF1_ORGANISERS),
    ("GET", M + "/revisions", MINUTES),
    ("GET", M + "/revisions/{number}", MINUTES),
    ("GET", M + "/revisions/{a}/diff/{b}", MINUTES),
    ("GET", M + "/comments", MINUTES),
    ("POST", M + "/comments", MINUTES),
    ("GET", "/conferences/{conference_id}/minutes", MINUTES),
    ("GET", "/conferences/{conference_id}/minutes/edit", MINUTES),
    ("GET", "/conferences/{conference_id}/minutes/revisions/{a}/diff/{b}", MINUTES),
    ("GET", "/conferences/{conference_id}/minutes.html", MINUTES),
    ("GET", "/conferences/{conference_id}/minutes.pdf", MINUTES),
    # Recordings: the conference's organisers, secretaries and technicians (admins pass);
    # not its interpreters, approvers or guests (a delegate's site watched it live).
    ("GET", "/conferences/{conference_id}/recordings", RECORDINGS),
    ("GET", "/conferences/{conference_id}/recordings/{recording_id}", RECORDINGS),
    ("GET", "/conferences/{conference_id}/recordings/{recording_id}/files/{channel}", RECORDINGS),
    ("GET", C + "/recordings", RECORDINGS),
    ("GET", C + "/recordings/{recording_id}/manifest", RECORDINGS),
    ("GET", "/search", SIGNED_IN),
    # Legal hold: read by every participant, set or lifted by organisers and secretaries.
    ("GET", C + "/legal-hold", CONF1),
    ("POST", C + "/legal-hold", CONF1_HOLDERS),
    ("POST", "/conferences/{conference_id}/legal-hold", CONF1_HOLDERS),
    ("GET", "/static/{filename}", EVERYONE),
    ("HEAD", "/static/{filename}", EVERYONE),
    ("GET", "/vendor/socket.io/{filename}", EVERYONE),
    ("HEAD", "/vendor/socket.io/{filename}", EVERYONE),
    ("GET", "/vendor/uplot/{filename}", EVERYONE),
    ("HEAD", "/vendor/uplot/{filename}", EVERYONE),
    ("GET", "/socket.io/", EVERYONE),
    ("POST", "/socket.io/", EVERYONE),
    ("HEAD", "/socket.io/", EVERYONE),
    ("OPTIONS", "/socket.io/", EVERYONE),
    ("POST", "/conferences/{conference_id}/sites/{site_id}", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/interpreters/{assignment_id}", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/delegations", CONF1_ORGANISERS),
    ("POST", "/conferences/{conference_id}/delegations/{delegation_id}", CONF1_ORGANISERS),
    (
        "POST",
        "/conferences/{conference_id}/delegations/{delegation_id}/remove",
        CONF1_ORGANISERS,
    ),
    # Agreements: parts of the conference read and sign; organisers and secretaries register.
    ("GET", C + "/agreements", CONF1),
    ("POST", C + "/agreements", CONF1_EDITORS),
    ("GET", AG, CONF1),
    ("PATCH", AG, CONF1_EDITORS),
    ("POST", AG + "/versions", CONF1_EDITORS),
    ("GET", AG + "/versions/{version_id}/pdf", CONF1),
    ("POST", AG + "/signatories", CONF1_EDITORS),
    ("POST", AG + "/signatories/{signatory_id}/code", CONF1),
    ("POST", AG + "/signatories/{signatory_id}/sign", CONF1),
    ("GET", "/conferences/{conference_id}/agreements", CONF1),
    ("POST", "/conferences/{conference_id}/agreements", CONF1_EDITORS),
    ("GET", "/conferences/{conference_id}/agreements/{agreement_id}", CONF1),
    ("POST", "/conferences/{conference_id}/agreements/{agreement_id}/versions", CONF1_EDITORS),
    ("POST", "/conferences/{conference_id}/agreements/{agreement_id}/signatories", CONF1_EDITORS),
    ("GET", "/conferences/{conference_id}/agreements/{agreement_id}/certificate", CONF1),
    ("GET", "/conferences/{conference_id}/agreements/{agreement_id}/certificate.pdf", CONF1),
    # Last: these end the caller's session.
    ("DELETE", "/api/session", SIGNED_IN),
    ("POST", "/logout", SIGNED_IN),
]
ENDS_SESSION = {("DELETE", "/api/session"), ("POST", "/logout")}
PARAMS = {
    "conference_id": "1",
    "token_id": "999999",
    "user_id": "999999",
    "feed_id": "999999",
    "invitation_id": "999999",
    "session_id": "999999",
    "site_id": "999999",
    "delegation_id": "999999",
    "assignment_id": "999999",
    "token": "not-a-token",
    "filename": "css/concord.css",
    "language": "lo",
    "application_id": "999999",
    "attachment_id": "999999",
    "position": "999999",
    "agreement_id": "999999",
    "version_id": "999999",
    "signatory_id": "999999",
    "number": "999999",
    "a": "999998",
    "b": "999999",
    "recording_id": "999999",
    "channel": "floor",
}


def registered(client: Client) -> set[tuple[str, str]]:
    rules = client.app[ACCESS_RULES]
    found = set()
    for route in client.app.router.routes():
        assert route in rules, f"{route.method} {route.resource} has no access rule"
        assert route.resource is not None
        canonical = route.resource.canonical
        if canonical.startswith(("/static", "/vendor/")):
            canonical += "/{filename}"
        found.add((route.method, canonical))
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_route_has_a_row(client: Client) -> None:
    listed = {(method, path) for method, path, _ in ROUTES}
    actual = registered(client)
    assert not actual - listed, f"routes with no row in this table: {sorted(actual - listed)}"
    optional = {(m, p) for m, p in listed if p.startswith("/vendor/")}  # needs `npm ci`
    assert not listed - actual - optional, f"rows for missing routes: {sorted(listed - actual)}"


class Personas:
    """A client and headers per persona; users authenticate with API tokens (no CSRF)."""

    def __init__(self, client: Client, database: Database) -> None:
        self.client, self.database = client, database
        self.clients: list[Client] = []
        self.by_name: dict[str, tuple[Client, dict[str, str]]] = {}
        self.invitation_url = ""

    async def new_client(self, cookies: bool) -> Client:
        jar = CookieJar(unsafe=True) if cookies else DummyCookieJar()
        made: Client = TestClient(self.client.server, cookie_jar=jar)
        await made.start_server()
        self.clients.append(made)
        return made

    async def start(self) -> None:
        cookieless = await self.new_client(cookies=False)
        self.by_name["anonymous"] = (cookieless, {})
        async with self.database.session() as db, db.begin():
            for persona in USERS:
                user_id = await db.scalar(select(User.id).where(User.email == EMAIL[persona]))
                owner = Identity(via="bearer", user_id=user_id)
                made = await accounts.create_api_token(db, owner, "access test")
                self.by_name[persona] = (cookieless, {"Authorization": f"Bearer {made.token}"})
        organiser = await self.new_client(cookies=True)
        csrf = await sign_in(organiser, EMAIL["organiser"])
        invite = await organiser.post(
            C.format(conference_id=1) + "/invitations",
            json={"site_id": 1, "role": "delegate"},
            headers={"X-CSRF-Token": csrf},
        )
        assert invite.status == 201, await invite.text()
        url = (await invite.json())["url"]
        self.invitation_url = url[url.index("/join/") :]
        await self.rejoin_guest()

    async def rejoin_guest(self) -> None:
        guest = await self.new_client(cookies=True)
        joined = await guest.get(self.invitation_url, allow_redirects=False)
        assert joined.status == 303
        guest_csrf = (await (await guest.get("/api/session")).json())["csrf_token"]
        self.by_name["guest"] = (guest, {"X-CSRF-Token": guest_csrf})

    async def close(self) -> None:
        for made in self.clients:
            await made.close()


async def test_access_rules_hold(client: Client, demo: Database) -> None:
    personas = Personas(client, demo)
    await personas.start()
    problems = []
    actual = registered(client)
    try:
        for method, path, allowed in ROUTES:
            if (method, path) not in actual:
                continue
            if (method, path) in ENDS_SESSION:
                await personas.rejoin_guest()
            url = path.format(**PARAMS)
            for persona, (who, headers) in personas.by_name.items():
                kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
                if method in ("POST", "PUT", "PATCH", "DELETE") and not path.startswith(
                    "/socket.io"
                ):
                    kwargs["json"] = {}
                response = await who.request(method, url, **kwargs)
                status = response.status
                location = response.headers.get("Location", "")
                denied = status in (401, 403) or (
                    status == 303 and location.startswith("/login?next=")
                )
                if persona in allowed and denied:
                    problems.append(f"{persona} was refused {method} {path} ({status})")
                if persona not in allowed:
                    expected = (401, 303) if persona == "anonymous" else (403,)
                    if status not in expected:
                        problems.append(
                            f"{persona} got {status} for {method} {path}, expected {expected}"
                        )
    finally:
        await personas.close()
    assert not problems, "\n".join(problems)
