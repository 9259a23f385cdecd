"""The route table: every route is declared with its access rule (and, for the API, its schemas).

Access is enforced centrally by ``server.middleware`` from these rules, so a handler cannot
forget it; a route registered without a rule is refused with 500 and fails the access test.
The OpenAPI document (``server.openapi``) is generated from the same declarations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

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


PUBLIC = Rule("public")
SIGNED_IN = Rule("anyone_signed_in")
USERS = Rule("users")


def roles(*names: Role) -> Rule:
    return Rule("users", frozenset(names))


def conference(*names: Role) -> Rule:
    return Rule("conference", frozenset(names))


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    list_response: bool = False


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
            route = app.router.add_route(entry.method, entry.path, entry.handler, name=entry.name)
            rules[route] = entry.rule
