"""The access matrix: who should pass every route, derived from the route table.

For each registered route the expected personas follow from its declared ``Rule`` (scope and
roles), its declared finer rule (``Rule.within``, see ``server.route_table.Within``) and each
persona's part in the conference the route concerns (``HELD``). A route that names a
conference (``{conference_id}``, or an object that belongs to one, such as a permit
application) is probed three ways:

- ``own``: the demo's conference 1, where the personas have their parts;
- ``foreign``: a draft organised by a stranger, where no persona but admins has a part;
- ``cross``: the own conference's path with one object of the foreign conference in it
  (a session, site, agreement, recording...), which everybody, admins too, must be refused
  with 403 or 404: an object is only ever reached through its own conference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.models import Role
from server.route_table import Rule
from tests.access_world import OWN, PATH_OBJECTS, PATH_VALUES, WRITABLE, World

USERS = ("admin", "organiser", "approver", "technician", "interpreter", "secretary", "delegate")
PERSONAS = ("anonymous", "guest", *USERS)
EMAIL = {
    "admin": "admin@concord.example",
    "organiser": "organiser@concord.example",
    "approver": "approver@concord.example",
    "technician": "technician@concord.example",
    "interpreter": "interpreter.lo@concord.example",
    "secretary": "secretary@concord.example",
    "delegate": "delegate@concord.example",
}
#: Each user persona's account roles (the demo's).
ACCOUNT_ROLES: dict[str, frozenset[Role]] = {
    name: frozenset(Role) if name == "admin" else frozenset({Role(name)}) for name in USERS
}
#: The roles each persona holds in the own conference (conference 1, ended): its organiser;
#: members; approvers read every conference past its draft; the guest's invitation is for a
#: delegate; the demo delegate belongs to conference 2 only. In the foreign conference only
#: admins hold roles.
HELD: dict[str, frozenset[Role]] = {
    "anonymous": frozenset(),
    "guest": frozenset({Role.DELEGATE}),
    "admin": frozenset(Role),
    "organiser": frozenset({Role.ORGANISER}),
    "approver": frozenset({Role.APPROVER}),
    "technician": frozenset({Role.TECHNICIAN}),
    "interpreter": frozenset({Role.INTERPRETER}),
    "secretary": frozenset({Role.SECRETARY}),
    "delegate": frozenset(),
}
#: The personas with the same part in conference 2 (``WRITABLE``) as in conference 1.
WRITERS = frozenset({"admin", "organiser", "approver", "technician", "secretary"})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
#: Probed last, in this order: they end the caller's session or remove the conference.
LAST = (
    ("DELETE", "/api/conferences/{conference_id}"),
    ("DELETE", "/api/session"),
    ("POST", "/logout"),
)
CROSS_WRITE_REFUSALS = (400, 403, 404, 409, 415, 422, 503)
PARAM = re.compile(r"{(\w+)}")
DECLARE = (
    "declare it beside the route: Rule.narrowed(...) (server.route_table.Within) for a finer rule "
    "its handler enforces"
)


def held(persona: str, conference_id: int) -> frozenset[Role]:
    if persona == "admin" or conference_id == OWN:
        return HELD[persona]
    return frozenset()


def admits(rule: Rule, persona: str, roles_held: frozenset[Role]) -> bool:
    """Whether ``rule`` (with its ``within``) lets ``persona`` in, holding ``roles_held`` in
    the conference the request concerns."""
    if rule.scope == "public":
        return True
    if persona == "anonymous":
        return False
    if rule.scope == "users":
        if persona == "guest":
            return False
        if persona != "admin" and rule.roles and not ACCOUNT_ROLES[persona] & rule.roles:
            return False
    elif rule.scope == "conference":
        if not roles_held or (rule.roles and not roles_held & rule.roles):
            return False
    within = rule.within
    if within is None:
        return True
    if persona == "admin":
        return within.admins
    if persona == "guest":
        return within.guests and bool(roles_held)
    return bool(roles_held & within.roles)


@dataclass(frozen=True)
class Probe:
    kind: str  # own, foreign, cross, none (the route names no conference)
    method: str
    path: str  # the route's pattern
    url: str
    admitted: frozenset[str]  # personas the rule admits; for ``cross``: who is probed

    def describe(self, persona: str) -> str:
        return f"[{self.kind}] {persona} {self.method} {self.path} ({self.url})"


def parameters(path: str) -> list[str]:
    return PARAM.findall(path)


def undeclared(path: str) -> list[str]:
    known = {"conference_id", *PATH_OBJECTS, *PATH_VALUES}
    return [name for name in parameters(path) if name not in known]


def _admitted(rule: Rule, conference_id: int) -> frozenset[str]:
    return frozenset(p for p in PERSONAS if admits(rule, p, held(p, conference_id)))


def plan(routes: list[tuple[str, str, Rule]], world: World) -> tuple[list[Probe], list[Probe]]:
    """The cross-conference probes, then the others (reads first; ``LAST`` at the end)."""
    cross: list[Probe] = []
    probes: list[Probe] = []
    for method, path, rule in routes:
        names = parameters(path)
        concerns = "conference_id" in names or "application_id" in names
        real = method in SAFE
        if not concerns:
            url = path.format(**world.values(OWN, real=real))
            probes.append(Probe("none", method, path, url, _admitted(rule, OWN)))
            continue
        for kind, conference_id in (("own", OWN), ("foreign", world.foreign)):
            url = path.format(**world.values(conference_id, real=real))
            probes.append(Probe(kind, method, path, url, _admitted(rule, conference_id)))
        if "conference_id" not in names:
            continue  # a permit application's path names no conference to mismatch
        callers = _admitted(rule, OWN) - {"anonymous"}
        mine = OWN
        if not real:
            mine, callers = WRITABLE, callers & WRITERS
        for name in names:
            if name in PATH_OBJECTS:
                values = world.values(mine, real=True)
                values[name] = str(world.objects[world.foreign][name])
                cross.append(Probe("cross", method, path, path.format(**values), callers))

    def order(probe: Probe) -> tuple[int, int]:
        key = (probe.method, probe.path)
        return (2, LAST.index(key)) if key in LAST else (int(probe.method not in SAFE), 0)

    return cross, sorted(probes, key=order)


def judge(probe: Probe, persona: str, status: int, location: str) -> str | None:
    """What is wrong with this answer, if anything."""
    to_login = status == 303 and location.startswith("/login?next=")
    if probe.kind == "cross":
        # Writes carry an empty body: refused as invalid (400, 409, 422) or for want of a mail
        # server (503) before their object is looked up, they are held by the foreign
        # conference's rows being unchanged (``fingerprint``).
        refusals = (403, 404) if probe.method in SAFE | {"DELETE"} else CROSS_WRITE_REFUSALS
        if status in refusals:
            return None
        return (
            f"{probe.describe(persona)} answered {status}: an object of another conference "
            f"must be refused ({refusals}); look it up with the path's conference"
        )
    refused = status in (401, 403) or to_login
    if persona in probe.admitted:
        if refused:
            return (
                f"{probe.describe(persona)} was refused ({status}) although its rule admits "
                f"{persona}: {DECLARE}, or fix the handler"
            )
        return None
    expected = status in (401, 303) if persona == "anonymous" else status == 403
    if expected and (status != 303 or to_login):
        return None
    return (
        f"{probe.describe(persona)} answered {status}; its rule refuses {persona} "
        f"({'401' if persona == 'anonymous' else '403'} expected): an access hole, or {DECLARE}"
    )
