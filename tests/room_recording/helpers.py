"""Shared by the recording tests: an interpreter on air, ffprobe, hashing, the stored rows."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import socketio
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rooms.synthetic import SyntheticSite, ToneTrack
from server.db import Database
from server.models import Recording
from tests.conftest import sign_in


async def interpreter_on_air(client: Any, language: str = "lo") -> tuple[Any, SyntheticSite]:
    """The demo's Lao interpreter in their booth, on air with a 660 Hz tone."""
    own: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    await sign_in(own, f"interpreter.{language}@concord.example")
    cookie = "; ".join(f"{c.key}={c.value}" for c in own.session.cookie_jar)
    await own.session.close()
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(
        str(client.make_url("")),
        headers={"Cookie": cookie},
        namespaces=["/room"],
        transports=["websocket"],
        wait_timeout=10,
    )
    joined = await sio.call(
        "join", {"conference_id": 1, "as": "interpreter", "language": language}, namespace="/room"
    )
    assert joined["ok"], joined
    media = SyntheticSite(
        f"{language}-booth", microphone=ToneTrack(660), slots=[("source.audio", "audio")]
    )
    sdp, layout = await media.offer()
    answer = await sio.call("offer", {"sdp": sdp, "layout": layout}, namespace="/room")
    assert answer["ok"], answer
    await media.accept(answer["sdp"])
    assert (await sio.call("booth.on_air", {}, namespace="/room"))["ok"]
    return sio, media


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's streams and the last packet time of each stream (unfinished files too)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_packets", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(out.stdout)
    last: dict[int, float] = {}
    for packet in found.get("packets", []):
        if packet.get("pts_time") not in (None, "N/A"):
            index = int(packet["stream_index"])
            last[index] = max(last.get(index, 0.0), float(packet["pts_time"]))
    kinds = {int(s["index"]): s["codec_type"] for s in found.get("streams", [])}
    return {"streams": kinds, "last": {kinds[i]: t for i, t in last.items()}}


def stated_duration(path: Path) -> float | None:
    """The duration the container states (a finished file's), as ffprobe reads it."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    value = json.loads(out.stdout).get("format", {}).get("duration")
    return None if value in (None, "N/A") else float(value)


async def recordings_of(database: Database, conference_id: int) -> list[Recording]:
    async with database.session() as db:
        return list(
            await db.scalars(
                select(Recording)
                .where(Recording.conference_id == conference_id)
                .options(selectinload(Recording.files))
                .order_by(Recording.id)
            )
        )


def short_file(path: Path) -> None:
    """A second of tone (and of picture in a WebM), as the recorder's files hold."""
    inputs = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1"]
    if path.suffix == ".webm":
        inputs += ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=15:duration=1"]
        inputs += ["-c:v", "libvpx"]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", *inputs, "-c:a", "libopus", str(path)],
        check=True,
        timeout=60,
    )
