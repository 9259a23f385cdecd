"""The editor's sites: add one, change one in place (``?site=ID`` fills the form with it) or
remove it, through the operations in ``server.conferences.parts``. A refused change comes back
in the same form with the field named; a change that double-books a hall (409) shows the
editor's conflict warning."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import parts
from server.conferences.editor_pages import Form, Problem, text, validated
from server.conferences.editor_rows import EditorRows
from server.conferences.inputs import SiteIn, SiteUpdate
from server.identity import Identity
from server.models import Conference, Site
from server.route_table import RouteTable

#: The site form's text fields, named as in ``SiteIn``.
SITE_FIELDS = ("name", "location", "time_zone", "contact_name", "contact_email")


def site_data(form: Form) -> dict[str, Any]:
    """The site form as the API's body (the same fields for a new site and a change)."""
    data: dict[str, Any] = {name: text(form, name) for name in SITE_FIELDS}
    data["is_main_hall"] = "is_main_hall" in form
    return data


def site_values(row: Site | None, form: Form | None) -> dict[str, Any]:
    """What the site form shows: the posted values again, else the stored ones."""
    if form is not None:
        return site_data(form)
    if row is None:
        return {}
    values: dict[str, Any] = {name: getattr(row, name) or "" for name in SITE_FIELDS}
    values["is_main_hall"] = row.is_main_hall
    return values


def site_context(
    request: web.Request, found: Conference, problem: Problem | None, form: Form | None
) -> dict[str, Any]:
    """The site form: ``?site=ID`` (or a refused change of it) edits that site."""
    posted = form if form is not None and problem and problem.form == "site" else None
    raw_id = request.query.get("site") or (text(posted, "site_id") if posted else "")
    editing = next((s for s in found.sites if str(s.id) == raw_id), None)
    return {
        "editing_site": editing,
        "site_values": defaultdict(str, site_values(editing, posted)),
    }


async def _add(db: AsyncSession, who: Identity, conference_id: int, form: Form, ip: str) -> object:
    return await parts.create_site(db, who, conference_id, validated(SiteIn, site_data(form)), ip)


async def _change(
    db: AsyncSession, who: Identity, conference_id: int, site_id: int, form: Form, ip: str
) -> object:
    body = validated(SiteUpdate, site_data(form))
    return await parts.update_site(db, who, conference_id, site_id, body, ip)


SITES = EditorRows(
    "site", "/conferences/{conference_id}/sites", "site_id", _add, _change, parts.delete_site
)


def add_routes(table: RouteTable) -> None:
    SITES.add_routes(table)
