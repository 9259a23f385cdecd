"""The route table: every route is declared with its access rule (and, for the API, its schemas).

Access is enforced centrally by ``server.middleware`` from these rules, so a handler cannot
forget it; a route registered without a rule is refused with 500 and fails the access test.
The OpenAPI document (``server.openapi``) is generated from the same declarations.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from server.i18n_strings import N_
from server.models import Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Scope = Literal["public", "anyone_signed_in", "users", "conference"]


@dataclass(frozen=True)
class Within:
    """A finer rule that a route's handler enforces on top of its ``Rule``.

    The middleware does not enforce it (the handler does, because it needs the conference an
    object belongs to, or state the route cannot see); it is declared beside the route so that
    readers and the access matrix (``tests/test_access.py``) know who passes. The conference
    is the one named by ``{conference_id}``, or the one of the object the path names (a permit
    application's). Of the people the ``Rule`` admits, these pass:

    - users holding one of ``roles`` *in that conference* (as ``conference_roles`` counts
      them: its organiser, its members, approvers once it has left its draft);
    - with ``guests``, guests invited to that conference, whatever their role;
    - admins, unless ``admins`` is false (say, a booth that only its interpreters open).
    """

    roles: frozenset[Role]
    guests: bool = False
    admins: bool = True
    why: str = ""


@dataclass(frozen=True)
class Rule:
    """Who may call a route.

    - ``public``: anybody.
    - ``anyone_signed_in``: a user, or a guest from an invitation.
    - ``users``: a signed-in user (not a guest) holding one of ``roles`` (any role if empty).
    - ``conference``: someone with a part in the conference named by ``{conference_id}``:
      its organiser, a member, a guest invited to it, or (if ``roles`` is set) only those of
      them acting in one of ``roles``. Admins pass every rule.
    """

    scope: Scope
    roles: frozenset[Role] = frozenset()
    csrf: bool = True  # state-changing calls made with cookies must carry the CSRF token
    #: A browser form posts a file here: the body may be ``Config.upload_max_bytes`` instead
    #: of ``max_body_bytes`` (the handler still checks the file's own limit).
    uploads: bool = False
    #: What the handler checks beyond this rule (see ``Within``); ``None``: nothing finer.
    within: Within | None = None

    def narrowed(
        self, *names: Role, guests: bool = False, admins: bool = True, why: str = ""
    ) -> Rule:
        """This rule, declaring that the handler admits only ``Within(names, ...)`` of it."""
        within = Within(frozenset(names), guests, admins, why)
        return Rule(self.scope, self.roles, self.csrf, self.uploads, within)

    def describe(self) -> str:
        names = ",".join(sorted(r.value for r in self.roles))
        return f"{self.scope}[{names}]" if names else self.scope


#: Path parameters that are words, not record numbers. Every other ``{name}`` in a path is a
#: number: the route only matches digits, and the value must lie in ``NUMBER_RANGE``.
TEXT_PARAMS = frozenset({"token", "language", "channel"})
#: Record numbers (ids, ledger positions, revision numbers) fit PostgreSQL's ``integer``, the
#: narrowest column any of them is stored in; a larger number can name nothing.
NUMBER_RANGE = (0, 2**31 - 1)
PATH_PARAM = re.compile(r"{(\w+)}")


def number_params(path: str) -> list[str]:
    """The parameters of ``path`` that are record numbers."""
    return [name for name in PATH_PARAM.findall(path) if name not in TEXT_PARAMS]


#: The record numbers of the paths, named in words for a page's refusal.
NUMBER_LABELS = {
    "conference_id": N_("Conference number"),
    "session_id": N_("Session number"),
    "agreement_id": N_("Agreement number"),
    "signatory_id": N_("Signatory number"),
    "version_id": N_("Version number"),
    "application_id": N_("Application number"),
    "attachment_id": N_("Attachment number"),
    "invitation_id": N_("Invitation number"),
    "recording_id": N_("Recording number"),
    "feed_id": N_("Calendar feed number"),
    "token_id": N_("API token number"),
    "user_id": N_("User number"),
    "position": N_("Ledger entry"),
}
OTHER_NUMBER = N_("The number in the link")
TOO_LARGE = N_("must be a number from %(low)s to %(high)s, not %(value)s")


def out_of_range(match: Mapping[str, str], numbers: Collection[str]) -> dict[str, Any] | None:
    """Why one of a matched route's ``numbers`` names nothing (too large): a validation error
    naming the parameter (with its ``label`` in words and the message as a template); or None."""
    low, high = NUMBER_RANGE
    for name, raw in match.items():
        if name not in numbers or not raw.isdigit():
            continue
        if not low <= int(raw) <= high:
            values = {"low": str(low), "high": str(high), "value": raw}
            return {
                "field": name,
                "label": NUMBER_LABELS.get(name, OTHER_NUMBER),
                "message": TOO_LARGE % values,
                "template": TOO_LARGE,
                "params": values,
            }
    return None


def _pattern(path: str) -> str:
    """The path as aiohttp matches it: number parameters match digits only, so that
    ``/sessions/import`` is never taken for ``/sessions/{session_id}``."""
    return PATH_PARAM.sub(
        lambda m: m.group(0) if m.group(1) in TEXT_PARAMS else f"{{{m.group(1)}:[0-9]+}}",
        path,
    )


PUBLIC = Rule("public")
SIGNED_IN = Rule("anyone_signed_in")
USERS = Rule("users")


def roles(*names: Role) -> Rule:
    return Rule("users", frozenset(names))


def conference(*names: Role) -> Rule:
    return Rule("conference", frozenset(names))


@dataclass(frozen=True)
class Query:
    """A query-string parameter as the OpenAPI document describes it (the handler reads it)."""

    name: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    description: str = ""
    required: bool = False


def number_query(name: str, low: int, high: int, description: str = "") -> Query:
    """A whole-number query parameter, read with ``server.web.query_number``."""
    return Query(name, {"type": "integer", "minimum": low, "maximum": high}, description)


def instant_query(name: str, description: str = "") -> Query:
    return Query(name, {"type": "string", "format": "date-time"}, description)


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    list_response: bool = False
    #: Error statuses this operation answers besides those its shape implies (see
    #: ``server.openapi.error_statuses``): 429 for throttled sign-ins, 502/503 for mail or PDF.
    errors: tuple[int, ...] = ()
    #: Other success statuses, answered with no body (a deleted draft's 204).
    empty: tuple[int, ...] = ()
    query: tuple[Query, ...] = ()
    #: The media type of a body sent as raw bytes (a file), instead of a JSON ``body``.
    raw_body: str | None = None


@dataclass
class Entry:
    method: str
    path: str
    handler: Handler
    rule: Rule
    name: str | None
    doc: ApiDoc | None


@dataclass
class RouteTable:
    """Routes collected by feature modules, then added to the app in one place."""

    entries: list[Entry] = field(default_factory=list)
    #: The names of the path parameters that are record numbers, in any route.
    numbers: set[str] = field(default_factory=set)

    def route(
        self,
        method: str,
        path: str,
        handler: Handler,
        rule: Rule,
        *,
        name: str | None = None,
        doc: ApiDoc | None = None,
    ) -> None:
        self.entries.append(Entry(method.upper(), path, handler, rule, name, doc))

    def get(self, path: str, handler: Handler, rule: Rule, **kw: object) -> None:
        self.route("GET", path, handler, rule, **kw)  # type: ignore[arg-type]

    def post(self, path: str, handler: Handler, rule: Rule, **kw: object) -> None:
        self.route("POST", path, handler, rule, **kw)  # type: ignore[arg-type]

    def patch(self, path: str, handler: Handler, rule: Rule, **kw: object) -> None:
        self.route("PATCH", path, handler, rule, **kw)  # type: ignore[arg-type]

    def delete(self, path: str, handler: Handler, rule: Rule, **kw: object) -> None:
        self.route("DELETE", path, handler, rule, **kw)  # type: ignore[arg-type]

    def api(self) -> Iterator[Entry]:
        return (e for e in self.entries if e.doc is not None)

    def install(self, app: web.Application, rules: dict[web.AbstractRoute, Rule]) -> None:
        for entry in self.entries:
            self.numbers.update(number_params(entry.path))
            route = app.router.add_route(
                entry.method, _pattern(entry.path), entry.handler, name=entry.name
            )
            rules[route] = entry.rule
