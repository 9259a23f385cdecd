"""The editor's delegations: add one with its members, change it (``?delegation=ID`` fills the
form with it; the members' rows replace the whole list) or remove it, through the operations
in ``server.conferences.parts``. A refused form comes back as it was typed, with the field
named (a member's field next to its row)."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from aiohttp import web
from babel import Locale
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import parts
from server.conferences.editor_pages import Form, Problem, text, validated
from server.conferences.editor_rows import EditorRows
from server.conferences.inputs import DelegationIn, DelegationUpdate
from server.conferences.timing import field_error
from server.countries import COUNTRIES
from server.i18n_strings import N_
from server.identity import Identity
from server.keys import LOCALE
from server.models import Conference, Delegation, Role, Site, User, UserRole
from server.route_table import RouteTable

#: Empty member rows offered below the delegation's own members.
MEMBER_ROWS = 6
#: The most member rows a form is read for (the API takes at most 200 members).
MAX_MEMBER_ROWS = 200 + MEMBER_ROWS
MEMBER_FIELDS = ("name", "position", "role", "language", "user_id")


def member_rows(form: Form) -> list[dict[str, str]]:
    """The filled member rows as typed, in order; a row with only its role is empty."""
    try:
        count = min(int(text(form, "member_rows") or 0), MAX_MEMBER_ROWS)
    except ValueError:
        count = 0
    rows = []
    for index in range(count):
        row = {key: text(form, f"member_{key}_{index}") for key in MEMBER_FIELDS}
        if any(row[key] for key in MEMBER_FIELDS if key != "role"):
            rows.append(row)
    return rows


def delegation_data(form: Form) -> dict[str, Any]:
    """The delegation form as the API's body; member ``n`` is the ``n``-th filled row."""
    return {
        "country": text(form, "country"),
        "organisation": text(form, "organisation"),
        "is_host": "is_host" in form,
        "precedence": text(form, "precedence") or None,
        "site_id": text(form, "site_id") or None,
        "members": [
            {
                "name": row["name"],
                "position": row["position"],
                "role": row["role"] or "member",
                "language": row["language"] or None,
                "user_id": row["user_id"] or None,
            }
            for row in member_rows(form)
        ],
    }


def delegation_values(row: Delegation | None, form: Form | None) -> dict[str, Any]:
    """What the delegation form shows: the posted values again (the filled member rows first,
    so that ``members.n`` names the ``n``-th row), else the stored ones."""
    if form is not None:
        names = ("country", "organisation", "precedence", "site_id")
        values: dict[str, Any] = {name: text(form, name) for name in names}
        values["is_host"] = "is_host" in form
        values["members"] = member_rows(form)
        return values
    if row is None:
        return {"members": []}
    return {
        "country": row.country,
        "organisation": row.organisation,
        "precedence": str(row.precedence),
        "site_id": str(row.site_id or ""),
        "is_host": row.is_host,
        "members": [
            {
                "name": m.name,
                "position": m.position,
                "role": m.role,
                "language": m.language,
                "user_id": str(m.user_id or ""),
            }
            for m in row.members
        ],
    }


@cache
def country_names(locale: str) -> dict[str, str]:
    """Country codes and their names in ``locale``, by name."""
    names = Locale.parse(locale).territories
    found = {code: str(names.get(code, code)) for code in COUNTRIES}
    return dict(sorted(found.items(), key=lambda item: item[1]))


MEMBER_ACCOUNT_ROLES = (Role.DELEGATE.value, Role.INTERPRETER.value)


async def member_users(db: AsyncSession, found: Conference) -> list[User]:
    """Whom a delegation member may be linked to: active accounts of delegates and interpreters
    (a delegation's own), and those this conference's members are linked to already; not
    every account on the server (administrators, approvers, technicians are none of these)."""
    linked = {m.user_id for d in found.delegations for m in d.members if m.user_id is not None}
    delegates = select(UserRole.user_id).where(UserRole.role.in_(MEMBER_ACCOUNT_ROLES))
    rows = await db.scalars(
        select(User)
        .where(User.active.is_(True), or_(User.id.in_(delegates), User.id.in_(linked)))
        .order_by(User.display_name)
    )
    return list(rows)


async def delegation_context(
    request: web.Request,
    db: AsyncSession,
    found: Conference,
    problem: Problem | None,
    form: Form | None,
) -> dict[str, Any]:
    """The editor's delegation list (in precedence order) and the delegation form
    (``?delegation=ID``, or a refused change of it, edits that one)."""
    listed = sorted(found.delegations, key=lambda d: (d.precedence, d.id))
    posted = form if form is not None and problem and problem.form == "delegation" else None
    raw_id = request.query.get("delegation") or (text(posted, "delegation_id") if posted else "")
    editing = next((d for d in listed if str(d.id) == raw_id), None)
    return {
        "delegations": listed,
        "editing_delegation": editing,
        "delegation_values": defaultdict(str, delegation_values(editing, posted)),
        "member_blank_rows": MEMBER_ROWS,
        "member_users": await member_users(db, found),
        "country_names": country_names(request.get(LOCALE, "en")),
        "site_names": {site.id: site.name for site in found.sites},
    }


async def _own_site(db: AsyncSession, conference_id: int, site_id: int | None) -> None:
    """The form offers only the conference's sites: any other is the field's problem."""
    if site_id is None:
        return
    site = await db.get(Site, site_id)
    if site is None or site.conference_id != conference_id:
        raise field_error(
            "site_id",
            N_("conference %(conference)s has no site %(site)s"),
            "unknown_site",
            conference=str(conference_id),
            site=str(site_id),
        )


async def _add(db: AsyncSession, who: Identity, conference_id: int, form: Form, ip: str) -> object:
    body = validated(DelegationIn, delegation_data(form))
    await _own_site(db, conference_id, body.site_id)
    return await parts.create_delegation(db, who, conference_id, body, ip)


async def _change(
    db: AsyncSession, who: Identity, conference_id: int, delegation_id: int, form: Form, ip: str
) -> object:
    body = validated(DelegationUpdate, delegation_data(form))
    await _own_site(db, conference_id, body.site_id)
    return await parts.update_delegation(db, who, conference_id, delegation_id, body, ip)


DELEGATIONS = EditorRows(
    "delegation",
    "/conferences/{conference_id}/delegations",
    "delegation_id",
    _add,
    _change,
    parts.delete_delegation,
)


def add_routes(table: RouteTable) -> None:
    DELEGATIONS.add_routes(table)
