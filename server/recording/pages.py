"""Recordings' pages and API: the list, the playback page, the files (with HTTP ranges, so a
player can seek) and the manifests. The conference's organisers, secretaries and technicians
(and admins) only: recordings are the conference's record, not for every participant.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.conferences.queries import conference_detail
from server.errors import NotFound
from server.keys import CONFIG, DATABASE
from server.models import Recording, Role, Site
from server.recording.schemas import ManifestOut, RecordingOut, recording_out
from server.routing import ApiDoc, RouteTable, conference
from server.web import int_param, json_response, render

#: Who may list, play and download a conference's recordings.
RECORDING_ROLES = (Role.ORGANISER, Role.SECRETARY, Role.TECHNICIAN)
PAGE = "/conferences/{conference_id}/recordings"
API = "/api/conferences/{conference_id}/recordings"


async def _recordings(db: AsyncSession, conference_id: int) -> list[Recording]:
    return list(
        await db.scalars(
            select(Recording)
            .where(Recording.conference_id == conference_id)
            .options(selectinload(Recording.files))
            .order_by(Recording.started_at.desc(), Recording.id.desc())
        )
    )


async def _recording(db: AsyncSession, conference_id: int, recording_id: int) -> Recording:
    row = await db.scalar(
        select(Recording)
        .where(Recording.id == recording_id, Recording.conference_id == conference_id)
        .options(selectinload(Recording.files))
    )
    if row is None:
        raise NotFound(
            f"conference {conference_id} has no recording {recording_id}",
            code="recording_not_found",
        )
    return row


async def list_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        rows = await _recordings(db, conference_id)
    return render(
        request,
        "recordings.html",
        {"conference": found, "recordings": [recording_out(r) for r in rows]},
    )


async def playback_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    recording_id = int_param(request, "recording_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        row = await _recording(db, conference_id, recording_id)
        named = select(Site.id, Site.name).where(Site.conference_id == conference_id)
        sites = {row.id: row.name for row in await db.execute(named)}
    out = recording_out(row)
    marks = row.manifest.get("marks") or []
    player = {
        "recording": out.model_dump(mode="json"),
        "files": [f for f in row.manifest.get("files") or [] if isinstance(f, dict)],
        "marks": [m for m in marks if isinstance(m, dict)],
        "sites": {str(k): v for k, v in sites.items()},
    }
    return render(
        request,
        "recordings_play.html",
        {"conference": found, "recording": out, "player": player},
    )


async def download(request: web.Request) -> web.StreamResponse:
    """One channel's file; aiohttp's FileResponse answers Range requests (206)."""
    conference_id = int_param(request, "conference_id")
    recording_id = int_param(request, "recording_id")
    channel = request.match_info["channel"]
    async with request.app[DATABASE].session() as db:
        row = await _recording(db, conference_id, recording_id)
    entry = next((f for f in row.files if Path(f.path).stem == channel), None)
    if entry is None:
        raise NotFound(
            f"recording {recording_id} has no {channel!r} channel", code="recording_file_not_found"
        )
    data_dir: Path = request.app[CONFIG].data_dir
    path = data_dir / entry.path
    if ".." in Path(entry.path).parts or not await asyncio.to_thread(path.is_file):
        raise NotFound(
            f"the {channel!r} file of recording {recording_id} is no longer on disk",
            code="recording_file_gone",
        )
    name = path.name
    disposition = "attachment" if request.query.get("download") else "inline"
    headers = {
        "Content-Type": entry.media_type,
        "Content-Disposition": f'{disposition}; filename="conference-{conference_id}-'
        f'recording-{recording_id}-{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return web.FileResponse(path, headers=headers)


async def list_api(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        await conference_detail(db, conference_id)
        rows = await _recordings(db, conference_id)
    return json_response([recording_out(r) for r in rows])


async def manifest_api(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    recording_id = int_param(request, "recording_id")
    async with request.app[DATABASE].session() as db:
        row = await _recording(db, conference_id, recording_id)
    return json_response(ManifestOut(recording=recording_out(row), manifest=row.manifest))


def add_routes(table: RouteTable) -> None:
    rule = conference(*RECORDING_ROLES)
    table.get(PAGE, list_page, rule, name="recordings")
    table.get(PAGE + "/{recording_id}", playback_page, rule, name="recording")
    table.get(PAGE + "/{recording_id}/files/{channel}", download, rule, name="recording_file")
    tag = "recordings"
    table.get(
        API,
        list_api,
        rule,
        doc=ApiDoc(
            "The conference's recordings: times, status, files with sizes and SHA-256",
            tag,
            response=RecordingOut,
            list_response=True,
        ),
    )
    table.get(
        API + "/{recording_id}/manifest",
        manifest_api,
        rule,
        doc=ApiDoc(
            "A recording's manifest: files, channels, start and stop, timeline marks",
            tag,
            response=ManifestOut,
        ),
    )
