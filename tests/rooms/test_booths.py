"""Booth rules: who may go on air, handover, switch-out on the floor language, and relay."""

from __future__ import annotations

import pytest

from rooms.booths import FLOOR, BoothInfo, Heard, Interpretation, InterpretationError

# The MoU conference, with an English booth added: vi and lo on the floor.
BOOTHS = {
    "lo": BoothInfo("lo", frozenset({"vi"}), ("lo-a", "lo-b")),
    "vi": BoothInfo("vi", frozenset({"lo"}), ("vi-a",)),
    "en": BoothInfo("en", frozenset({"lo"}), ("en-a",)),  # works from Lao only
}


def code_of(call: object) -> str:
    with pytest.raises(InterpretationError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


def test_only_the_booths_interpreters_go_on_air_and_one_at_a_time() -> None:
    booths = Interpretation(BOOTHS, floor_language="vi")
    assert code_of(lambda: booths.go_on_air("en-a", "lo")) == "not_in_booth"
    assert code_of(lambda: booths.go_on_air("delegate", "lo")) == "not_in_booth"
    assert code_of(lambda: booths.go_on_air("lo-a", "fr")) == "no_booth"
    assert booths.go_on_air("lo-a", "lo") == [
        ("booth.on_air", {"language": "lo", "interpreter": "lo-a"})
    ]
    assert code_of(lambda: booths.go_on_air("lo-b", "lo")) == "partner_on_air"
    assert booths.listener_hears("lo") == Heard("booth", "lo", "lo-a")
    booths.go_off_air("lo-a", "lo")
    assert booths.listener_hears("lo") == FLOOR, "a silent booth leaves its listeners the floor"


def test_handover_is_asked_by_the_partner_and_granted_by_the_one_on_air() -> None:
    booths = Interpretation(BOOTHS, floor_language="vi")
    assert code_of(lambda: booths.request_handover("lo-b", "lo")) == "nobody_on_air"
    booths.go_on_air("lo-a", "lo")
    assert code_of(lambda: booths.accept_handover("lo-a", "lo")) == "no_request"
    booths.request_handover("lo-b", "lo")
    assert code_of(lambda: booths.accept_handover("lo-b", "lo")) == "not_on_air"
    assert booths.accept_handover("lo-a", "lo") == [
        ("booth.handover", {"language": "lo", "from": "lo-a", "to": "lo-b"})
    ]
    assert booths.listener_hears("lo") == Heard("booth", "lo", "lo-b")
    assert booths.booths["lo"].handover_to is None


def test_the_floor_language_switches_its_own_booth_out_and_sets_relays() -> None:
    booths = Interpretation(BOOTHS, floor_language="vi")
    for interpreter, language in (("lo-a", "lo"), ("vi-a", "vi"), ("en-a", "en")):
        booths.go_on_air(interpreter, language)
    # Vietnamese on the floor: the vi booth is switched out, English relays from Lao.
    assert booths.listener_hears("vi") == FLOOR
    assert booths.listener_hears("lo") == Heard("booth", "lo", "lo-a")
    assert booths.booth_hears("lo") == FLOOR
    assert booths.booth_hears("en") == Heard("booth", "lo", "lo-a")
    # The Lao governor speaks: the lo booth is out, vi and en interpret the floor directly.
    events = booths.set_floor_language("lo")
    assert events[0] == ("floor.language", {"language": "lo", "by": "chair"})
    assert (
        "booth.route",
        {"language": "lo", "switched_out": True, "source": "floor", "relay_from": None},
    ) in events
    assert booths.listener_hears("lo") == FLOOR
    assert booths.booth_hears("en") == FLOOR
    assert booths.set_floor_language("lo") == [], "no change, no event"


def test_without_an_available_relay_the_booth_hears_the_floor() -> None:
    booths = Interpretation(BOOTHS, floor_language="vi")
    assert booths.booth_hears("en") == FLOOR, "the Lao booth is silent: no relay to take"
    snapshot = booths.snapshot()
    assert {b["language"]: b["switched_out"] for b in snapshot["booths"]} == {
        "lo": False,
        "vi": True,
        "en": False,
    }


def test_booths_are_declared_consistently() -> None:
    with pytest.raises(ValueError, match="1 to 3 interpreters"):
        Interpretation({"lo": BoothInfo("lo", frozenset({"vi"}), ())})
    with pytest.raises(ValueError, match="declared for"):
        Interpretation({"lo": BoothInfo("en", frozenset({"vi"}), ("x",))})


def test_leaving_the_booth_takes_an_interpreter_off_air_and_withdraws_their_request() -> None:
    booths = Interpretation(BOOTHS, floor_language="vi")
    assert booths.set_present("lo-a", "lo", True) == [
        ("booth.presence", {"language": "lo", "interpreter": "lo-a", "present": True})
    ]
    assert booths.set_present("lo-a", "lo", True) == [], "already present: no event"
    booths.set_present("lo-b", "lo", True)
    booths.go_on_air("lo-a", "lo")
    booths.request_handover("lo-b", "lo")
    events = booths.set_present("lo-b", "lo", False)
    assert ("booth.handover_withdrawn", {"language": "lo", "to": "lo-b"}) in events
    assert booths.booths["lo"].handover_to is None
    events = booths.set_present("lo-a", "lo", False)
    assert (
        "booth.off_air",
        {"language": "lo", "interpreter": "lo-a", "reason": "disconnected"},
    ) in events
    assert booths.listener_hears("lo") == FLOOR, "listeners fall back to the floor at once"
    assert code_of(lambda: booths.set_present("vi-a", "lo", True)) == "not_in_booth"


def test_an_interpreter_chooses_the_floor_or_a_relay_booth() -> None:
    booths = Interpretation(BOOTHS, floor_language="vi")
    booths.go_on_air("lo-a", "lo")
    assert booths.interpreter_hears("en-a", "en") == Heard("booth", "lo", "lo-a"), "auto: relay"
    booths.choose_source("en-a", "en", "floor")
    assert booths.interpreter_hears("en-a", "en") == FLOOR
    booths.choose_source("vi-a", "vi", "lo")
    assert booths.interpreter_hears("vi-a", "vi") == Heard("booth", "lo", "lo-a")
    booths.go_off_air("lo-a", "lo")
    assert booths.interpreter_hears("vi-a", "vi") == FLOOR, "nobody to relay: the floor"
    booths.choose_source("en-a", "en", "auto")
    assert "en-a" not in booths.sources
    assert code_of(lambda: booths.choose_source("en-a", "en", "en")) == "own_booth"
    assert code_of(lambda: booths.choose_source("en-a", "en", "fr")) == "no_booth"
    assert code_of(lambda: booths.choose_source("lo-a", "en", "floor")) == "not_in_booth"


def test_the_snapshot_names_the_interpreters_and_counts_listeners() -> None:
    info = BoothInfo("lo", frozenset({"vi"}), ("lo-a", "lo-b"), names=("Khamla", "Bounmy"))
    booths = Interpretation({"lo": info})
    booths.set_present("lo-b", "lo", True)
    (lao,) = booths.snapshot({"lo": 7})["booths"]
    assert lao["interpreters"] == [
        {"id": "lo-a", "name": "Khamla", "present": False},
        {"id": "lo-b", "name": "Bounmy", "present": True},
    ]
    assert lao["listeners"] == 7
