"""The minutes' pages: reading (state, comments, revisions), the secretary's live editor, the
diff between two revisions, and the HTML and PDF exports (one template, WeasyPrint)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp_jinja2 import render_string

from server.errors import NotFound
from server.keys import DATABASE
from server.minutes.access import READERS, minutes_access, require_editor
from server.minutes.build import agenda_items, load_conference
from server.minutes.export import export_context
from server.minutes.store import comment_rows, list_revisions, readable, revision_diff
from server.models import Conference, Delegation, MinutesComment, Role
from server.permits.decision import print_pdf
from server.route_table import USERS, RouteTable, conference
from server.templating import page_context
from server.web import identity, int_param, pdf_response, render

P = "/conferences/{conference_id}/minutes"


def by_delegation(
    comments: Sequence[MinutesComment], delegations: Sequence[Delegation]
) -> list[tuple[str, list[MinutesComment]]]:
    """The comments under their delegation's name, delegations in order of precedence (those
    without comments left out), each one's comments by round and time as stored."""
    groups = [
        (d.organisation, [c for c in comments if c.delegation_id == d.id]) for d in delegations
    ]
    known = {d.id for d in delegations}
    unknown = [c for c in comments if c.delegation_id not in known]  # a delegation since removed
    return [(name, found) for name, found in groups if found] + (
        [("?", unknown)] if unknown else []
    )


async def reading_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    who = identity(request)
    async with request.app[DATABASE].session() as db:
        access = await minutes_access(db, who, conference_id)
        conference = await load_conference(db, conference_id)
        try:
            found, revisions = await list_revisions(db, who, conference_id)
        except NotFound:
            if not access.editor:
                raise
            return render(
                request, "minutes.html", {"conference": conference, "found": None, "access": access}
            )
        comments = await comment_rows(db, found.row)
        delegations = sorted(conference.delegations, key=lambda d: (d.precedence, d.id))
    return render(
        request,
        "minutes.html",
        {
            "conference": conference,
            "found": found,
            "access": access,
            "revisions": revisions,
            "comment_groups": by_delegation(comments, delegations),
            "can_finalise": access.editor and "organiser" in access.roles,
        },
    )


def agenda_titles(conference: Conference) -> dict[str, str]:
    """Each agenda item's title by its key; an occurrence's with its day in the conference's
    time zone ("Working group (2027-03-02)")."""
    titles = {s.uid: s.title for s in conference.sessions}
    zone = ZoneInfo(conference.time_zone)
    for item in agenda_items(conference):
        if item.key != item.session.uid:
            titles[item.key] = f"{item.session.title} ({item.starts_at.astimezone(zone):%Y-%m-%d})"
    return titles


async def edit_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    who = identity(request)
    async with request.app[DATABASE].session() as db:
        access = await minutes_access(db, who, conference_id)
        require_editor(access)
        _, found = await readable(db, who, conference_id)
        conference = await load_conference(db, conference_id)
        context = export_context(conference, found)
    config = {
        "conference_id": conference_id,
        "api": f"/api/conferences/{conference_id}/minutes",
        "state": found.row.state,
        "revision": found.row.revision,
        "saved_by": found.revision.author_name,
        "saved_at": found.revision.saved_at.isoformat(),
        "document": found.minutes.to_dict(),
        "sites": {str(s.id): s.name for s in conference.sites},
        # The agenda's titles, shown beside the items' titles still to be translated (an
        # occurrence of a repeating session with its date).
        "agenda": agenda_titles(conference),
    }
    return render(
        request,
        "minutes_edit.html",
        {**context, "config": config, "found": found},
    )


def shown(value: Any) -> str | None:
    """A changed value for people: texts as they are, entries as readable JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


async def diff_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    a, b = int_param(request, "a"), int_param(request, "b")
    async with request.app[DATABASE].session() as db:
        old, new, changes = await revision_diff(db, identity(request), conference_id, a, b)
        conference = await load_conference(db, conference_id)
    return render(
        request,
        "minutes_diff.html",
        {
            "conference": conference,
            "old": old,
            "new": new,
            "changes": [(c.path, c.kind, shown(c.old), shown(c.new), c.lines) for c in changes],
        },
    )


async def export_html(request: web.Request) -> str:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        _, found = await readable(db, identity(request), conference_id)
        conference = await load_conference(db, conference_id)
        context = export_context(conference, found)
    html = render_string("minutes_export.html", request, {**page_context(request), **context})
    assert isinstance(html, str)
    return html


async def minutes_html(request: web.Request) -> web.Response:
    return web.Response(
        text=await export_html(request),
        content_type="text/html",
        headers={"Cache-Control": "private, no-store"},
    )


async def minutes_pdf(request: web.Request) -> web.Response:
    pdf = await print_pdf(await export_html(request))
    conference_id = int_param(request, "conference_id")
    return pdf_response(pdf, f"minutes-{conference_id}.pdf", "inline")


def add_routes(table: RouteTable) -> None:
    editors = conference(Role.SECRETARY, Role.ORGANISER)
    readers = USERS.narrowed(Role.SECRETARY, Role.ORGANISER, why=READERS)
    table.get(P, reading_page, readers)
    table.get(P + "/edit", edit_page, editors)
    table.get(P + "/revisions/{a}/diff/{b}", diff_page, readers)
    table.get("/conferences/{conference_id}/minutes.html", minutes_html, readers)
    table.get("/conferences/{conference_id}/minutes.pdf", minutes_pdf, readers)
