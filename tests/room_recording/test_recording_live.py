"""Recording a live room over socket.io with real aiortc sites and a real interpreter: the chair
starts and stops it, every member sees the state, the files, hashes, manifest, ledger and audit
entries are stored; the pages, API and downloads answer each role as documented."""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.config import Config
from server.db import Database
from server.keys import LIVE_ROOMS
from server.models import AgendaSession, AuditEntry, LedgerEntry
from tests.conftest import sign_in, sign_in_english
from tests.live.conftest import Chair, until
from tests.room_recording.helpers import interpreter_on_air, probe, recordings_of, sha256_of

# Both databases by default (the database_url fixture); the agenda test on SQLite only.
HALL, CHAMPASAK = 1, 2


async def test_the_chair_records_and_everyone_sees_it(
    live: dict[str, Any], demo: Database, config: Config
) -> None:
    chair = await live["chair"](1)
    chair_states: list[dict[str, Any]] = []
    chair.sio.on("recording.state", chair_states.append, namespace="/room")
    sites = []
    seen: dict[str, list[dict[str, Any]]] = {}
    for site_id, name, tone in ((HALL, "hall", 440), (CHAMPASAK, "champasak", 880)):
        site = await live["invite"](1, site_id, name, tone)
        seen[name] = []
        site.sio.on("recording.state", seen[name].append, namespace="/room")
        await site.start()
        await chair.call("admit", {"site_id": site_id})
        await until(site.admitted.is_set, 5)
        await site.connect_media()
        sites.append(site)
    booth, media = await interpreter_on_air(live["client"])
    seen["booth"] = []
    booth.on("recording.state", seen["booth"].append, namespace="/room")
    try:
        guest = await sites[1].sio.call("recording.start", {}, namespace="/room")
        assert guest["ok"] is False and guest["code"] == "forbidden"
        assert (await chair.call("recording.stop"))["code"] == "not_recording"

        started = await chair.call("recording.start")
        assert started["ok"], started
        again = await chair.call("recording.start")
        assert again["ok"] is False and again["code"] == "already_recording"
        for name, states in seen.items():
            await until(
                partial(lambda s: s and s[-1]["recording"], states), 5, f"{name} to see REC"
            )
            assert seen[name][-1]["id"] == started["id"]
            assert dt.datetime.fromisoformat(seen[name][-1]["since"]).tzinfo is not None
        late = await joined_console(live)  # a member joining now learns it in the answer
        assert late["recording"]["recording"] is True
        assert late["recording"]["id"] == started["id"]

        await asyncio.sleep(1.5)
        assert (await chair.call("floor.grant", {"site_id": CHAMPASAK}))["ok"]
        await asyncio.sleep(3.0)
        assert (await chair.call("floor.release"))["ok"]
        await asyncio.sleep(1.0)
        stopped = await chair.call("recording.stop")
        assert stopped == {"ok": True, "id": started["id"]}
        for name, states in seen.items():
            await until(
                partial(lambda s: not s[-1]["recording"], states), 10, f"{name} to see REC end"
            )
        assert chair_states[-1] == {**chair_states[-1], "recording": False, "id": None}
    finally:
        await media.close()
        await booth.disconnect()

    [row] = await recordings_of(demo, 1)
    assert row.status == "finished" and row.started_by == "organiser@concord.example"
    assert row.stopped_at is not None and row.stopped_at > row.started_at
    names = {Path(f.path).name: f for f in row.files}
    assert {"floor.webm", "floor-audio.ogg", "lo.ogg"} <= names.keys()
    directory = config.data_dir / row.directory
    assert row.directory == f"recordings/1/{row.id}"
    for name, stored in names.items():
        path = directory / name
        assert stored.size == path.stat().st_size > 0
        assert stored.sha256 == sha256_of(path), f"{name}: the stored hash is the file's"
        assert stored.ledger_position is not None
    floor = probe(directory / "floor.webm")
    assert set(floor["streams"].values()) == {"video", "audio"}
    assert floor["last"]["video"] > 4 and floor["last"]["audio"] > 4
    lao = probe(directory / "lo.ogg")
    assert lao["last"]["audio"] > 4, "the Lao booth was on air the whole time"
    assert names["floor.webm"].duration and names["floor.webm"].duration > 4

    marks = row.manifest["marks"]
    floor_marks = [(m["action"], m.get("site_id")) for m in marks if m["kind"] == "floor"]
    assert ("granted", CHAMPASAK) in floor_marks and ("released", CHAMPASAK) in floor_marks
    granted = next(m for m in marks if m["kind"] == "floor" and m["action"] == "granted")
    assert 1.0 < granted["at"] < 4.0
    assert {f["name"] for f in row.manifest["files"]} == set(names)

    async with demo.session() as db:
        ledger = list(await db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "recording")))
        audits = list(
            await db.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "recording"))
        )
    by_ref = {e.ref: e for e in ledger}
    for name, stored in names.items():
        entry = by_ref[f"recording:{row.id}:{Path(name).stem}"]
        assert entry.payload["sha256"] == stored.sha256
        assert entry.position == stored.ledger_position
        assert entry.payload["recording_id"] == row.id and entry.payload["size"] == stored.size
    assert audits == ["recording.started", "recording.finished"]

    await check_pages_and_downloads(live, demo, row.id, names["floor.webm"].sha256)


async def joined_console(live: dict[str, Any]) -> dict[str, Any]:
    """Another console joins conference 1; its join answer."""
    own: TestClient[Any, Any] = TestClient(live["client"].server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    seat = Chair(own)
    try:
        answer = await seat.start(1)
    finally:
        await seat.close()
        await own.session.close()
    assert answer["ok"], answer
    return answer


async def check_pages_and_downloads(
    live: dict[str, Any], demo: Database, recording_id: int, floor_sha: str | None
) -> None:
    client = live["client"]
    secretary: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await secretary.start_server()
    try:
        await sign_in_english(secretary, "secretary@concord.example")
        listing = await secretary.get("/conferences/1/recordings")
        assert listing.status == 200
        html = await listing.text()
        assert f'data-recording-id="{recording_id}"' in html and str(floor_sha) in html
        page = await secretary.get(f"/conferences/1/recordings/{recording_id}")
        text = await page.text()
        assert page.status == 200 and 'id="recording-language-select"' in text
        assert '<option value="lo"' in text and "floor.webm" in text

        api = await (await secretary.get("/api/conferences/1/recordings")).json()
        assert [r["id"] for r in api] == [recording_id]
        assert {f["name"] for f in api[0]["files"]} >= {"floor.webm", "lo.ogg"}
        manifest = await secretary.get(f"/api/conferences/1/recordings/{recording_id}/manifest")
        body = await manifest.json()
        assert body["manifest"]["marks"] and body["recording"]["status"] == "finished"

        url = f"/conferences/1/recordings/{recording_id}/files/floor"
        whole = await secretary.get(url)
        data = await whole.read()
        assert whole.status == 200 and whole.headers["Content-Type"] == "video/webm"
        import hashlib

        assert hashlib.sha256(data).hexdigest() == floor_sha
        part = await secretary.get(url, headers={"Range": "bytes=100-199"})
        assert part.status == 206 and await part.read() == data[100:200]
        missing = await secretary.get(f"/conferences/1/recordings/{recording_id}/files/xx")
        assert missing.status == 404
        other = await secretary.get("/conferences/1/recordings/999999")
        assert other.status == 404
    finally:
        await secretary.session.close()  # closing the client would stop the shared server

    # A site's guest (a delegate of conference 1) and the interpreter may not download.
    interpreter: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await interpreter.start_server()
    try:
        await sign_in(interpreter, "interpreter.lo@concord.example")
        refused = await interpreter.get(f"/conferences/1/recordings/{recording_id}/files/floor")
        assert refused.status == 403
        api = await interpreter.get("/api/conferences/1/recordings")
        assert api.status == 403
    finally:
        await interpreter.session.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # storage: tested above
async def test_a_session_starts_and_stops_the_recording(
    live: dict[str, Any], demo: Database
) -> None:
    now = dt.datetime.now(dt.UTC)
    async with demo.session() as db, db.begin():
        db.add(
            AgendaSession(
                conference_id=1,
                title="Signing of the memorandum",
                starts_at=now - dt.timedelta(minutes=5),
                ends_at=now + dt.timedelta(seconds=12),
                time_zone="Asia/Ho_Chi_Minh",
            )
        )
    chair = await live["chair"](1)  # the room opens during the session
    states: list[dict[str, Any]] = []
    chair.sio.on("recording.state", states.append, namespace="/room")
    hall = await live["invite"](1, HALL, "hall", 440)
    await hall.start()
    await chair.call("admit", {"site_id": HALL})
    await until(hall.admitted.is_set, 5)
    await hall.connect_media()
    await until(lambda: states and states[-1]["recording"], 10, "the session to start it")
    await until(lambda: states and not states[-1]["recording"], 25, "the session's end to stop it")
    [row] = await recordings_of(demo, 1)
    assert row.started_by == "session" and row.status == "finished"
    agenda = [m for m in row.manifest["marks"] if m["kind"] == "agenda"]
    assert [(m["action"], m["title"]) for m in agenda] == [
        ("start", "Signing of the memorandum"),
        ("end", "Signing of the memorandum"),
    ]
    assert all(f.sha256 for f in row.files)


async def test_the_end_of_the_room_stops_the_recording(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](1)
    states: list[dict[str, Any]] = []
    chair.sio.on("recording.state", states.append, namespace="/room")
    hall = await live["invite"](1, HALL, "hall", 440)
    await hall.start()
    await chair.call("admit", {"site_id": HALL})
    await until(hall.admitted.is_set, 5)
    await hall.connect_media()
    started = await chair.call("recording.start")
    assert started["ok"], started
    await asyncio.sleep(2.0)
    assert await live["client"].app[LIVE_ROOMS].end(1, "organiser@concord.example")
    await until(lambda: states and not states[-1]["recording"], 10, "the stop to be announced")
    [row] = await recordings_of(demo, 1)
    assert row.status == "finished" and all(f.sha256 for f in row.files)
    async with demo.session() as db:
        detail = await db.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "recording.finished")
        )
    assert detail is not None and detail["by"] == "room ended"
