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
from server.errors import BadRequest, NotFound
from server.i18n_strings import N_
from server.keys import CONFIG, DATABASE
from server.models import Recording, Role, Site
from server.room_recording import operations
from server.room_recording.schemas import ManifestOut, RecordingOut, recording_out
from server.route_table import ApiDoc, RouteTable, conference
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
            N_("conference %(conference)s has no recording %(recording)s"),
            code="recording_not_found",
            params={"conference": str(conference_id), "recording": str(recording_id)},
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


def _part(request: web.Request, row: Recording) -> int:
    """The part asked for: ``?part=`` on the playback page, ``/parts/{part}/`` in a file's
    address; part 1 when neither is given."""
    given = request.match_info.get("part") or request.query.get("part") or "1"
    if not given.isdigit() or not 1 <= int(given) <= row.parts:
        if "part" in request.match_info:
            raise NotFound(
                N_("recording %(recording)s has no part %(part)s"),
                code="recording_part_not_found",
                params={"recording": str(row.id), "part": repr(given)},
            )
        raise BadRequest(
            N_(
                "part must be a number from 1 to %(parts)s: recording %(recording)s has"
                " %(parts)s part"
            )
            if row.parts == 1
            else N_(
                "part must be a number from 1 to %(parts)s: recording %(recording)s has"
                " %(parts)s parts"
            ),
            code="invalid_part",
            params={"parts": str(row.parts), "recording": str(row.id)},
        )
    return int(given)


def _of_part(items: object, part: int) -> list[dict[str, object]]:
    """The manifest's files or marks of one part (entries without a part are part 1's)."""
    found = items if isinstance(items, list) else []
    return [i for i in found if isinstance(i, dict) and i.get("part", 1) == part]


async def playback_page(request: web.Request) -> web.Response:
    """One part of a recording: its floor video, its language channels, its timeline."""
    conference_id = int_param(request, "conference_id")
    recording_id = int_param(request, "recording_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        row = await _recording(db, conference_id, recording_id)
        named = select(Site.id, Site.name).where(Site.conference_id == conference_id)
        sites = {row.id: row.name for row in await db.execute(named)}
    part = _part(request, row)
    out = recording_out(row)
    player = {
        "recording": out.model_dump(mode="json"),
        "part": part,
        "files": _of_part(row.manifest.get("files"), part),
        "marks": _of_part(row.manifest.get("marks"), part),
        "sites": {str(k): v for k, v in sites.items()},
    }
    summaries = {p["part"]: p for p in _parts(row.manifest)}
    return render(
        request,
        "recordings_play.html",
        {
            "conference": found,
            "recording": out,
            "part": part,
            "summary": summaries.get(part),
            "files": [f for f in out.files if f.part == part],
            "player": player,
        },
    )


def _parts(manifest: object) -> list[dict[str, object]]:
    """The manifest's part summaries, their times as datetimes (for ``in_zone``)."""
    found = manifest.get("parts") if isinstance(manifest, dict) else None
    parts = []
    for item in found or []:
        if not isinstance(item, dict) or not isinstance(item.get("part"), int):
            continue
        times = {k: operations.moment(item.get(k)) for k in ("started_at", "stopped_at")}
        parts.append({**item, **times})
    return parts


async def download(request: web.Request) -> web.StreamResponse:
    """One channel's file of one part; aiohttp's FileResponse answers Range requests (206)."""
    conference_id = int_param(request, "conference_id")
    recording_id = int_param(request, "recording_id")
    channel = request.match_info["channel"]
    async with request.app[DATABASE].session() as db:
        row = await _recording(db, conference_id, recording_id)
    part = _part(request, row)
    entry = next((f for f in row.files if Path(f.path).stem == channel and f.part == part), None)
    if entry is None:
        raise NotFound(
            N_("part %(part)s of recording %(recording)s has no %(channel)s channel")
            if row.parts > 1
            else N_("recording %(recording)s has no %(channel)s channel"),
            code="recording_file_not_found",
            params={"part": str(part), "recording": str(recording_id), "channel": repr(channel)},
        )
    data_dir: Path = request.app[CONFIG].data_dir
    path = data_dir / entry.path
    if ".." in Path(entry.path).parts or not await asyncio.to_thread(path.is_file):
        raise NotFound(
            N_("the %(channel)s file of recording %(recording)s is no longer on disk"),
            code="recording_file_gone",
            params={"channel": repr(channel), "recording": str(recording_id)},
        )
    name = path.name if part == 1 else f"part-{part}-{path.name}"
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
    table.get(
        PAGE + "/{recording_id}/parts/{part}/files/{channel}",
        download,
        rule,
        name="recording_part_file",
    )
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
