"""Interpreters' booth over socket.io: presence, off air on disconnect, a private booth chat,
the source they hear, the technicians' booth status, the floor language following the speaker,
and the listeners' remembered choice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from sqlalchemy import select

from server.db import Database
from server.live.simulate import SITE_SLOTS
from server.models import Invitation, RoomEventRecord, User
from tests.live.conftest import until
from tests.live.test_interpretation_live import interpreter_socket

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
LAO_A, LAO_B = "interpreter.lo@concord.example", "interpreter.lo2@concord.example"


class Booth:
    """An interpreter's console without media: join, act, and hear the booth chat."""

    def __init__(self, sio: socketio.AsyncClient) -> None:
        self.sio = sio
        self.chat: list[dict[str, Any]] = []
        sio.on("booth.chat", self.chat.append, namespace="/room")

    async def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.sio.call(event, data or {}, namespace="/room", timeout=20)
        assert isinstance(answer, dict)
        return answer


async def booth(live: dict[str, Any], email: str, language: str = "lo") -> Booth:
    seat = Booth(await interpreter_socket(live["client"], email))
    joined = await seat.call(
        "join", {"conference_id": 1, "as": "interpreter", "language": language}
    )
    assert joined["ok"], joined
    return seat


def lao(state: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in state["interpretation"]["booths"] if b["language"] == "lo")


async def test_partners_presence_chat_source_and_off_air_when_gone(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](1)
    a, b = await booth(live, LAO_A), await booth(live, LAO_B)
    vi = await booth(live, "interpreter.vi@concord.example", "vi")
    try:
        await until(lambda: all(i["present"] for i in lao(chair.states[-1])["interpreters"]), 5)
        names = [i["name"] for i in lao(chair.states[-1])["interpreters"]]
        assert names == ["Phiên dịch viên tiếng Lào", "Phiên dịch viên tiếng Lào (ca 2)"]

        # The booth chat reaches the partner only, not the other booth.
        assert (await a.call("booth.chat", {"text": "I take the governor's speech"}))["ok"]
        await until(lambda: b.chat, 5)
        assert b.chat[0]["text"] == "I take the governor's speech"
        assert b.chat[0]["interpreter"] == "interpreter:5"
        assert vi.chat == []
        assert (await a.call("booth.chat", {"text": ""}))["code"] == "invalid"

        # Source: the Lao booth interprets from Vietnamese; it may choose a relay explicitly.
        assert (await b.call("booth.source", {"source": "vi"}))["hears"] == "floor", (
            "nobody on air in the vi booth: the floor"
        )
        assert (await b.call("booth.source", {"source": "lo"}))["code"] == "own_booth"
        assert (await b.call("booth.source", {"source": "xx"}))["code"] == "no_booth"
        assert (await chair.call("booth.source", {"source": "floor"}))["code"] == "forbidden"

        # On air, then A's connection drops: off air at once, listeners fall back to the floor.
        assert (await a.call("booth.on_air"))["ok"]
        assert (await b.call("booth.handover_request"))["ok"]
        status = await chair.call("booths.status")
        row = next(r for r in status["booths"] if r["language"] == "lo")
        assert row["on_air"] == "interpreter:5"
        assert row["on_air_name"] == "Phiên dịch viên tiếng Lào"
        assert row["present"] == ["interpreter:5", "interpreter:6"]
        assert row["level"] is None, "no media connected: no level"
        await a.sio.disconnect()
        await until(lambda: not lao(chair.states[-1])["interpreters"][0]["present"], 5)
        assert lao(chair.states[-1])["on_air"] is None
        assert (await b.call("booth.on_air"))["ok"], "the partner can take over"
        assert (await b.call("booths.status"))["code"] == "forbidden", "technicians only"
    finally:
        for seat in (a, b, vi):
            await seat.sio.disconnect()
    rows: list[RoomEventRecord] = []

    async def stored() -> list[dict[str, object]]:
        # Events reach the database through the room's pump, a moment after the clients.
        nonlocal rows
        async with demo.session() as db:
            rows = list(await db.scalars(select(RoomEventRecord).order_by(RoomEventRecord.id)))
        return [r.data for r in rows if r.type == "booth.off_air"]

    gone = {"language": "lo", "interpreter": "interpreter:5", "reason": "disconnected"}
    for _ in range(100):
        if gone in await stored():
            break
        await asyncio.sleep(0.05)
    assert gone in await stored()
    assert [r.type for r in rows].count("booth.presence") >= 4


async def test_the_floor_language_follows_the_speaker_and_listeners_are_remembered(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](1)
    site = await live["invite"](
        1, 2, "champasak", 880, slots=(*SITE_SLOTS, ("interpretation.audio", "audio"))
    )
    await site.start()
    await chair.call("admit", {"site_id": 2})
    await until(site.admitted.is_set, 5)

    # The Governor of Champasak (registered language: Lao) gets the floor.
    assert (await chair.call("floor.grant", {"site_id": 2}))["ok"]
    await until(lambda: chair.states[-1]["interpretation"]["floor_language"] == "lo", 5)
    assert lao(chair.states[-1])["switched_out"]
    by = [e for e in chair.events if e["type"] == "floor.language"]
    assert by[-1]["data"] == {"language": "lo", "by": "speaker"} and by[-1]["site_id"] == 2
    # The turn ends: the Vietnamese main hall speaks again.
    assert (await chair.call("floor.release"))["ok"]
    await until(lambda: chair.states[-1]["interpretation"]["floor_language"] == "vi", 5)
    # The chair can still say otherwise.
    assert (await chair.call("floor.language", {"language": None}))["ok"]
    await until(lambda: chair.states[-1]["interpretation"]["floor_language"] is None, 5)

    # A guest site's choice is remembered on its invitation, a user's on their account.
    answer = await site.call("language", {"language": "lo", "floor_level": 35})
    assert answer["hears"] == "floor", "nobody on air in the Lao booth yet"
    assert answer["listening"] == {"language": "lo", "floor_level": 35}
    refused = await site.sio.call(
        "language", {"language": "lo", "floor_level": 101}, namespace="/room"
    )
    assert refused["code"] == "invalid" and "floor_level" in refused["detail"]
    assert (await chair.call("language", {"language": "vi"}))["ok"]
    await until(lambda: lao(chair.states[-1])["listeners"] == 1, 5)
    async with demo.session() as db:
        invitations = list(await db.scalars(select(Invitation.listening)))
        organiser = await db.scalar(
            select(User.listening).where(User.email == "organiser@concord.example")
        )
    assert {"language": "lo", "floor_level": 35} in invitations
    assert organiser == {"language": "vi", "floor_level": 20}
    again = await live["chair"](1)
    joined = await again.call("leave")
    assert joined["ok"]
    rejoined = await again.call("join", {"conference_id": 1, "as": "console"})
    assert rejoined["listening"] == {"language": "vi", "floor_level": 20}
