"""A room's state taken and put back (rooms.room_state): what a restart must not lose."""

from __future__ import annotations

import json

from rooms.booths import BoothInfo
from rooms.room import BridgeRoom
from rooms.room_state import capture, restore
from rooms.roster import SiteInfo

SITES = {
    "1": SiteInfo("Hall", precedence=0, main_hall=True),
    "2": SiteInfo("Champasak", precedence=1),
    "3": SiteInfo("Binh Son", precedence=5),
}
BOOTHS = {"lo": BoothInfo("lo", frozenset({"vi"}), ("interpreter:5", "interpreter:6"))}


def room(sites: dict[str, SiteInfo] = SITES) -> BridgeRoom:
    return BridgeRoom(
        "t", sites, ice_addresses=["127.0.0.1"], on_event=lambda e: None, booths=BOOTHS
    )


def test_what_the_chair_decided_survives_a_new_room() -> None:
    before = room()
    for site in ("1", "2", "3"):
        before.arrive(site)
    before.admit("1")
    before.admit("2")
    before.request_floor("1")
    before.grant_floor("2", 300)
    before.request_floor("1")
    before.mute("1", True)
    before.lock(True)
    before.interpret("on_air", "interpreter:6", "lo")
    before.set_floor_language("vi")
    before.choose_language("2", "lo")
    before.choose_language("1", None)
    kept = json.loads(json.dumps(capture(before)))  # as the store keeps it: plain JSON

    after = room()
    restore(after, kept)
    assert {s: after.sites[s].admission for s in SITES} == {
        "1": "admitted",
        "2": "admitted",
        "3": "lobby",
    }
    assert after.floor.holder == "2" and after.floor.limit_seconds == 300
    assert after.floor.granted_at == before.floor.granted_at
    assert [r.site_id for r in after.floor.queue] == ["1"]
    assert after.sites["1"].muted and after.locked
    assert after.channels.interpretation.booths["lo"].on_air == "interpreter:6"
    assert after.channels.interpretation.floor_language == "vi"
    assert after.channels.languages == {"2": "lo"}, "each site listens as it chose"
    assert after.arrive("1") == "admitted", "a site coming back skips the lobby"


def test_what_no_longer_fits_the_conference_is_left_out() -> None:
    before = room()
    before.arrive("3")
    before.admit("3")
    before.grant_floor("3", None)
    before.interpret("on_air", "interpreter:5", "lo")
    before.choose_language("3", "lo")
    kept = capture(before)
    smaller = {k: v for k, v in SITES.items() if k != "3"}
    after = BridgeRoom(
        "t",
        smaller,
        ice_addresses=["127.0.0.1"],
        on_event=lambda e: None,
        booths={"lo": BoothInfo("lo", frozenset({"vi"}), ("interpreter:6",))},
    )
    restore(after, kept)
    assert after.floor.holder is None and "3" not in after.sites
    assert after.channels.interpretation.booths["lo"].on_air is None
    assert after.channels.languages == {}
    restore(after, {"version": 99, "locked": True})
    assert after.locked is False, "a state of another version is not applied"
