"""Careless and hostile signalling clients against a live server with real aiortc peers: an
offer that lacks what the media needs, and messages larger than the room takes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from rooms.synthetic import SyntheticSite, ToneTrack
from tests.live.conftest import until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MOU, CHAMPASAK = 1, 2


def without(sdp: str, prefix: str) -> str:
    return "".join(line for line in sdp.splitlines(keepends=True) if not line.startswith(prefix))


async def test_an_offer_without_a_fingerprint_is_refused_and_the_room_keeps_the_site(
    live: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    chair = await live["chair"](MOU)
    site = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    assert await site.start() == "lobby"
    assert (await chair.call("admit", {"site_id": CHAMPASAK}))["ok"]
    await until(site.admitted.is_set, 5)
    await site.connect_media()
    await until(lambda: chair.states and chair.site(CHAMPASAK)["link"] == "connected", 10)
    working = site.media

    # The same site offers again from a client that forgot DTLS (or ICE) in its SDP.
    careless = SyntheticSite("careless", microphone=ToneTrack(500), slots=[("hall.audio", "audio")])
    try:
        sdp, layout = await careless.offer()
        for missing, named in (("a=fingerprint", "a=fingerprint"), ("a=ice-pwd", "a=ice-pwd")):
            refused = await site.sio.call(
                "offer", {"sdp": without(sdp, missing), "layout": layout}, namespace="/room"
            )
            assert refused["ok"] is False and refused["code"] == "bad_offer", refused
            assert named in refused["detail"], refused
        garbage = await site.sio.call(
            "offer", {"sdp": "v=0\r\nm=audio x\r\n", "layout": {}}, namespace="/room"
        )
        assert garbage["code"] == "bad_offer", garbage
    finally:
        await careless.close()

    # Nothing changed: the site's working connection is still the room's, and still flows.
    await asyncio.sleep(2.0)  # long enough for a half-made connection to fail loudly
    assert site.media is working and working.pc.connectionState == "connected"
    assert chair.site(CHAMPASAK)["link"] == "connected"
    links = [e["type"] for e in chair.events if e["type"].startswith(("site.reconn", "site.conn"))]
    assert links == ["site.connected"], links
    assert "AssertionError" not in caplog.text and "Traceback" not in caplog.text

    # And the console's and a fresh offer's path refuse it the same way.
    viewer = SyntheticSite("console", slots=[("hall.audio", "audio")])
    try:
        sdp, layout = await viewer.offer()
        stripped = without(sdp, "a=fingerprint")
        refused = await chair.call("offer", {"sdp": stripped, "layout": layout})
        assert refused["code"] == "bad_offer" and "a=fingerprint" in refused["detail"], refused
    finally:
        await viewer.close()


async def test_an_oversized_message_is_answered_and_a_huge_frame_still_refused(
    live: dict[str, Any],
) -> None:
    chair = await live["chair"](MOU)
    site = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    assert await site.start() == "lobby"
    chats: list[dict[str, Any]] = []
    chair.sio.on("chat", chats.append, namespace="/room")

    # A 1 MB chat message (and a 300 KiB one in a nested payload): an answer, not a hang-up.
    for payload in ({"text": "x" * 1_000_000}, {"text": "hi", "extra": ["é" * 150_000]}):
        answer = await site.sio.call("chat", payload, namespace="/room", timeout=20)
        assert answer["ok"] is False and answer["code"] == "too_large", answer
        assert "262144 bytes" in answer["detail"] and "'chat'" in answer["detail"], answer
    assert site.sio.connected
    assert (await site.sio.call("chat", {"text": "still here"}, namespace="/room"))["ok"]
    await until(lambda: [c["text"] for c in chats] == ["still here"], 5, lambda: chats)

    # A frame over the transport's limit is not read at all: that connection ends...
    hung_up = asyncio.Event()
    site.sio.on("disconnect", hung_up.set, namespace="/room")
    await site.sio.emit("chat", {"text": "x" * 3_000_000}, namespace="/room")
    await asyncio.wait_for(hung_up.wait(), 10)
    # ...and only that one: the room goes on for everyone else.
    assert (await chair.call("lock", {"locked": False}))["ok"]


async def test_huge_numbers_in_socket_payloads_are_invalid_not_internal_errors(
    live: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Record numbers past what the database stores are refused by name, as on HTTP."""
    caplog.set_level(logging.WARNING)
    chair = await live["chair"](MOU)
    for event, payload in (
        ("admit", {"site_id": 2**70}),
        ("floor.grant", {"site_id": 2**63}),
        ("health.ack", {"alert_id": 2**64}),
    ):
        answer = await chair.call(event, payload)
        assert answer["ok"] is False and answer["code"] == "invalid", (event, answer)
        assert "site_id" in answer["detail"] or "alert_id" in answer["detail"], answer
    assert "Traceback" not in caplog.text and "OverflowError" not in caplog.text


async def test_ping_answers_and_takes_nothing(live: dict[str, Any]) -> None:
    """`ping` proves the socket works end to end (pages check it after their media stalled)."""
    chair = await live["chair"](MOU)
    assert await chair.call("ping", {}) == {"ok": True}
    refused = await chair.call("ping", {"x": 1})
    assert refused["ok"] is False and refused["code"] == "invalid", refused
