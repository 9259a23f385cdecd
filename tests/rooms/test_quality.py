"""Two qualities per camera: which one each receiver gets, and what a site need not send.

The rules are pure (``rooms.quality``) and tested on real ``Source`` objects first; then a room
of real aiortc sites shows them applied: console grid tiles get ``camera.low``, the floor gets
the full picture, and a quality nobody receives is paused at its publisher and resumed when
somebody needs it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiortc import RTCRtpSender

from rooms.forwarding import Slot, Source
from rooms.pinned_encoders import sender_private
from rooms.quality import (
    AUDIO,
    HEADROOM,
    PAUSE_AFTER,
    STEP_UP_AFTER,
    Downlink,
    Publishing,
    Step,
)
from rooms.room import BridgeRoom
from rooms.roster import RoomEvent, SiteInfo
from rooms.subscriber import InProcessSender
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack
from tests.rooms.conftest import until


def camera(site: str) -> Source:
    high = Source(site, "camera", "video", lambda _ssrc: None)
    high.low = Source(site, "camera.low", "video", lambda _ssrc: None)
    return high


RATES = {"high": 800_000.0, "low": 100_000.0}


def rate(source: Source, step: Step) -> float:
    return RATES["low" if step == "paused" else step]


def shown(downlink: Downlink, **slots: Source) -> None:
    """Route like rooms.routing does: every video slot asks ``choose``."""
    for name, source in slots.items():
        downlink.choose(name.replace("_", "."), source)


def test_grid_tiles_get_the_low_quality_and_the_floor_the_full_one() -> None:
    downlink = Downlink()
    a, b = camera("2"), camera("3")
    assert downlink.choose("grid.0.video", a) is a.low
    assert downlink.choose("floor.video", b) is b
    screen = Source("2", "screen", "video", lambda _ssrc: None)
    assert downlink.choose("presentation.video", screen) is screen  # no second quality
    assert downlink.choose("floor.video", None) is None


def test_a_short_link_steps_the_hall_down_before_the_floor_and_video_before_audio() -> None:
    downlink = Downlink(estimate=1_200_000)
    hall, floor = camera("1"), camera("2")
    shown(downlink, hall_video=hall, floor_video=floor)
    # 2 x 800k + 2 audio does not fit 85% of 1.2M; the hall alone at low does.
    assert downlink.rebalance(2, rate, now=100.0)
    assert downlink.steps == {"hall.video": "low"}
    assert downlink.choose("hall.video", hall) is hall.low
    assert downlink.choose("floor.video", floor) is floor

    downlink.estimate = 400_000  # both at low: 200k + 96k audio fits 340k
    assert downlink.rebalance(2, rate, now=101.0)
    assert downlink.steps == {"hall.video": "low", "floor.video": "low"}

    downlink.estimate = 150_000  # nothing but the voices fits...
    assert not downlink.rebalance(2, rate, now=102.0)  # ...but only a lossy link pauses video
    downlink.lossy = True  # video pauses, audio stays
    assert downlink.rebalance(2, rate, now=102.5)
    assert downlink.steps == {"hall.video": "paused", "floor.video": "paused"}
    assert downlink.choose("floor.video", floor) is None
    assert 2 * AUDIO <= 150_000 * HEADROOM


def test_stepping_up_waits_for_a_quiet_link_and_goes_one_step_at_a_time() -> None:
    downlink = Downlink(estimate=150_000, lossy=True)
    hall, floor = camera("1"), camera("2")
    shown(downlink, hall_video=hall, floor_video=floor)
    downlink.rebalance(2, rate, now=100.0)
    assert set(downlink.steps.values()) == {"paused"}

    downlink.estimate = 10_000_000
    assert not downlink.rebalance(2, rate, now=100.0 + STEP_UP_AFTER - 1)
    ups = []
    for second in range(int(5 * STEP_UP_AFTER)):
        now = 100.0 + STEP_UP_AFTER + second
        if downlink.rebalance(2, rate, now=now):
            ups.append((now - 100.0, dict(downlink.steps)))
    # The floor first, one step at a time, each after the last one held for STEP_UP_AFTER,
    # until everything is at its best.
    wait = STEP_UP_AFTER
    assert ups == [
        (wait, {"hall.video": "paused", "floor.video": "low"}),
        (2 * wait, {"hall.video": "paused"}),
        (3 * wait, {"hall.video": "low"}),
        (4 * wait, {}),
    ]


def test_a_step_up_that_does_not_hold_goes_back_to_what_held() -> None:
    """The full picture tried on a link that carried the small one: the link fills, and the
    estimate measured then would pause the video; the site goes back to the small picture
    (not further), and the next try waits twice as long."""
    downlink = Downlink(estimate=150_000)
    hall = camera("1")
    shown(downlink, hall_video=hall)
    downlink.rebalance(1, rate, now=100.0)
    assert downlink.steps == {"hall.video": "low"}
    downlink.estimate = 1_500_000  # grew while the small picture flowed
    assert downlink.rebalance(1, rate, now=100.0 + STEP_UP_AFTER)
    assert downlink.steps == {}
    downlink.estimate, downlink.lossy = 40_000, True  # measured through the overfull link
    assert downlink.rebalance(1, rate, now=100.0 + STEP_UP_AFTER + 3)
    assert downlink.steps == {"hall.video": "low"}
    assert downlink.estimate is not None and downlink.estimate >= (AUDIO + 100_000) / HEADROOM
    downlink.lossy = False
    downlink.estimate = 1_500_000
    assert not downlink.rebalance(1, rate, now=100.0 + 3 * STEP_UP_AFTER)  # waits 2x
    assert downlink.rebalance(1, rate, now=100.0 + 3 * STEP_UP_AFTER + 4)


def test_paused_video_tries_the_small_picture_once_the_link_loses_little() -> None:
    """A lossy link paused the picture and its estimate fell to 10 kbit/s; once the loss is
    gone, the small picture is tried after the wait, not after the estimate grew back."""
    downlink = Downlink(estimate=10_000, lossy=True)
    shown(downlink, hall_video=camera("1"))
    downlink.rebalance(1, rate, now=100.0)
    assert downlink.steps == {"hall.video": "paused"}
    assert not downlink.rebalance(1, rate, now=100.0 + STEP_UP_AFTER)  # still lossy
    downlink.lossy = False
    assert downlink.rebalance(1, rate, now=100.0 + STEP_UP_AFTER + 1)
    assert downlink.steps == {"hall.video": "low"}


def test_unknown_links_keep_the_full_quality() -> None:
    downlink = Downlink()
    floor = camera("2")
    shown(downlink, floor_video=floor)
    assert not downlink.rebalance(1, rate, now=1.0)
    assert downlink.choose("floor.video", floor) is floor


@dataclass
class Feedback:
    remb: tuple[float, float, tuple[int, ...]] | None = None
    reported_loss: float | None = None
    reported_at: float = 0.0
    round_trip: float | None = None
    packets_sent: int = 0


def test_the_link_is_short_when_remb_falls_below_what_is_sent_or_loss_is_heavy() -> None:
    downlink = Downlink()
    slot = Slot("2", "floor.video", "video", InProcessSender("video", lambda _p: None))
    slots = {"floor.video": slot}

    def second(at: float, kbits: int, *feedback: Feedback) -> None:
        slot.forwarded_bytes += kbits * 125
        downlink.measure(slots, feedback, now=at)

    second(10.0, 0)
    # A REMB above what is sent says nothing (a receive-side estimate stays near what arrives).
    second(11.0, 1000, Feedback(remb=(1_300_000, 10.5, (1, 2))))
    assert downlink.sent_rate == pytest.approx(1_000_000)
    assert downlink.estimate is None
    # A REMB that falls below it while the round trip shows a queue says the link is short:
    # REMB is the estimate. One REMB per set of streams it covers: a browser's covers all
    # (counted once), aiortc's one stream each (added up).
    second(11.5, 1000, Feedback(reported_at=11.4, round_trip=0.5))  # the shortest round trip
    browser = Feedback(remb=(450_000, 11.9, (1, 2)), reported_at=11.9, round_trip=0.55)
    second(12.0, 1000, browser, browser)
    assert downlink.estimate is None  # a late packet or two: a busy machine, not a queue
    queue = Feedback(reported_at=12.4, round_trip=0.8)
    aiortc = (Feedback(remb=(250_000, 12.4, (1,))), Feedback(remb=(150_000, 12.4, (2,))))
    second(12.5, 1000, *aiortc, queue)
    assert downlink.estimate is None  # once is a busy moment; twice in a row, a link
    second(13.5, 1000, *aiortc, queue)
    assert downlink.estimate == 400_000
    # One that grows from a low start (a receive-side estimator ramps up) does not.
    ramping = Downlink()
    ramping.measure(slots, [], now=20.0)
    for at, remb in ((21.0, 300_000), (22.0, 330_000), (23.0, 360_000)):
        slot.forwarded_bytes += 125_000
        ramping.measure(slots, [Feedback(remb=(remb, at - 0.5, (1, 2)))], now=at)
    assert ramping.estimate is None
    downlink.estimate = 500_000
    # A stale REMB is not used; with no sign of a short link the estimate grows, slowly.
    second(30.0, 500 * 17, browser)
    assert 500_000 < downlink.estimate < 500_000 * 1.2

    # Without REMB, heavy loss says what gets through: what was sent times what arrived. The
    # loss is weighted by what each slot sent: a slot that sent 2 packets and lost 1 is not a
    # 50% lossy link.
    video = Feedback(reported_loss=0.4, reported_at=30.5, round_trip=0.8)  # a queue
    sparse = Feedback(reported_loss=0.5, reported_at=30.5)
    second(31.0, 1000, video, sparse)
    video.packets_sent, sparse.packets_sent = 300, 2
    second(32.0, 1000, video, sparse)
    assert not downlink.lossy  # one lossy report is a burst (a key frame's), not yet a link
    video.packets_sent, sparse.packets_sent = 600, 4
    second(33.0, 1000, video, sparse)
    assert downlink.estimate == pytest.approx(1_000_000 * (1 - (0.4 * 300 + 0.5 * 2) / 302))
    video.reported_loss, sparse.packets_sent = 0.02, 6
    video.packets_sent += 300
    second(34.0, 1000, video, sparse)
    assert not downlink.lossy
    # Random loss with no queue (the round trip at its shortest) is not a full link.
    random = Downlink()
    slot.forwarded_bytes += 1
    for at in (40.0, 41.0, 42.0):
        slot.forwarded_bytes += 125_000
        lossy_idle = Feedback(reported_loss=0.2, reported_at=at - 0.1, round_trip=0.5)
        lossy_idle.packets_sent = int(at * 100)
        random.measure(slots, [lossy_idle], now=at)
    assert not random.lossy and random.estimate is None


async def test_publishing_pauses_what_nobody_receives_and_starts_over_on_a_new_connection() -> None:
    publishing = Publishing()
    site = camera("2")
    assert site.low is not None
    sources = {"2": {"camera": site, "camera.low": site.low}}
    assert publishing.update(sources, now=0.0) == {}
    assert publishing.update(sources, now=PAUSE_AFTER) == {"2": {"camera", "camera.low"}}
    assert publishing.update(sources, now=PAUSE_AFTER + 1) == {}  # told once

    # Somebody shows the low quality (a console tile): it is sent again at once.
    tile = Slot("console", "grid.0.video", "video", InProcessSender("video", lambda _p: None))
    tile.switch(site.low)
    assert publishing.update(sources, now=PAUSE_AFTER + 2) == {"2": {"camera"}}

    # A new connection (new sources) starts out sending both: the pause is told again.
    again = camera("2")
    assert again.low is not None
    sources = {"2": {"camera": again, "camera.low": again.low}}
    assert publishing.update(sources, now=10.0) == {}
    assert publishing.update(sources, now=10.0 + PAUSE_AFTER) == {"2": {"camera", "camera.low"}}


# --- a room of real aiortc sites -------------------------------------------------------------

SITES = {"1": SiteInfo("Main hall", 0, True), "2": SiteInfo("Site A", 1), "3": SiteInfo("B", 2)}
SLOTS = [("hall.video", "video"), ("floor.video", "video"), ("floor.audio", "audio")]
FULL, LOW = (320, 180), (160, 90)


@dataclass
class Room:
    bridge: BridgeRoom
    told: list[tuple[str, frozenset[str]]]
    clients: dict[str, SyntheticSite]


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    told: list[tuple[str, frozenset[str]]] = []
    clients: dict[str, SyntheticSite] = {}

    def on_publishing(site_id: str, paused: frozenset[str]) -> None:
        told.append((site_id, paused))
        if site_id in clients:  # what the site page does on media.sending
            clients[site_id].pause(paused)

    events: list[RoomEvent] = []
    bridge = BridgeRoom(
        "quality",
        SITES,
        ice_addresses=["127.0.0.1"],
        on_event=events.append,
        on_publishing=on_publishing,
    )
    bridge.start()
    yield Room(bridge, told, clients)
    for client in clients.values():
        await client.close()
    await bridge.close()


async def join(room: Room, site_id: str) -> SyntheticSite:
    room.bridge.arrive(site_id)
    room.bridge.admit(site_id)
    client = SyntheticSite(
        site_id,
        camera=PatternTrack(*FULL, 15),
        camera_low=PatternTrack(*LOW, 15),
        microphone=ToneTrack(440),
        slots=SLOTS,
    )
    room.clients[site_id] = client
    sdp, layout = await client.offer()
    await client.accept(await room.bridge.connect_site(site_id, sdp, layout))
    return client


def sender_of(client: SyntheticSite, name: str) -> RTCRtpSender:
    mid = next(m for m, n in client.layout.items() if n == name)
    return next(t.sender for t in client.pc.getTransceivers() if t.mid == mid)


async def test_consoles_get_tiles_at_the_low_quality_sites_the_floor_at_full_size(
    room: Room,
) -> None:
    hall, a, _b = [await join(room, s) for s in ("1", "2", "3")]
    console = SyntheticSite("console", slots=[(f"grid.{i}.video", "video") for i in range(3)])
    room.clients["console"] = console
    sdp, layout = await console.offer()
    await console.accept(await room.bridge.connect_console("console:1", sdp, layout))

    tiles = [console.received[f"grid.{i}.video"] for i in range(3)]
    await until(lambda: all(t.frames > 5 for t in tiles), within=15, what="grid tiles")
    assert [t.size for t in tiles] == [LOW, LOW, LOW]
    await until(lambda: a.received["hall.video"].frames > 5, within=10, what="hall video")
    assert a.received["hall.video"].size == FULL
    # A's receiver estimates its bandwidth from the abs-send-time Concord stamps, and its REMB
    # reaches the sender it names (aiortc routes REMB by the SSRCs it lists).
    peer_a = room.bridge.sites["2"].peer
    assert peer_a is not None
    hall_video = peer_a.slots["hall.video"].sender
    await until(lambda: hall_video.remb is not None, within=5, what="A's REMB")
    assert hall_video.remb is not None and hall_video.ssrc in hall_video.remb[2]

    # Nobody receives B's or A's full picture (nobody has the floor): they stop sending it.
    await until(lambda: ("3", frozenset({"camera"})) in room.told, within=PAUSE_AFTER + 3)
    sent = sender_of(room.clients["3"], "camera")
    await asyncio.sleep(0.5)
    packets = sender_private(sent, "packet_count")
    await asyncio.sleep(1.5)
    # (new packets only: a retransmission goes out past the sender's counter)
    assert sender_private(sent, "packet_count") == packets, f"still sent: {room.told}"

    # B gets the floor: its full picture is asked for again and reaches A at full size.
    room.bridge.request_floor("3")
    room.bridge.grant_floor("3")
    await until(lambda: room.told[-1] == ("3", frozenset()), within=3, what="B resumed")
    floor = a.received["floor.video"]
    await until(lambda: floor.frames > 5 and floor.size == FULL, within=10, what="B's floor")
    assert hall.received["floor.video"].size == FULL
