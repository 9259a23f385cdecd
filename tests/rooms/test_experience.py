"""What people experienced (freezes, concealed audio, reconnections): summed over the window
from the pages' reports and Concord's own count, and how it lowers a site's score and level."""

from __future__ import annotations

import pytest

from rooms.experience import Experience, ExperienceLog
from rooms.health import HealthTracker, Observation, Thresholds, score
from tests.rooms.test_health import link

T = Thresholds()


def test_the_log_sums_each_report_once_over_the_window() -> None:
    log = ExperienceLog(window=30.0)
    assert log.of("site:1", 0.0) == Experience(window=30.0)  # nothing heard of it yet
    log.page("site:1", 0.0, {"freezes_delta": 1, "freeze_seconds_delta": 0.6, "reconnections": 0})
    log.page("site:1", 2.0, {"concealed_audio": 0.10, "audio_samples": 96_000})
    # Under 10 s of audio (5 reports), a concealed share is not yet a measure.
    assert log.of("site:1", 3.0).concealed is None
    for second in (4.0, 6.0, 8.0, 10.0):
        log.page("site:1", second, {"concealed_audio": 0.0, "audio_samples": 96_000})
    lived = log.of("site:1", 11.0)
    assert (lived.freezes, lived.frozen_seconds, lived.reconnections) == (1, 0.6, 0)
    # Weighted by the samples each report covers: 9600 concealed of 480 000.
    assert lived.concealed == pytest.approx(0.02)
    assert lived.frozen_share == pytest.approx(0.02)
    # Read again (the next 2-s window): the same reports, not counted twice.
    assert log.of("site:1", 12.0) == lived
    # Past the window they no longer count.
    later = log.of("site:1", 33.0)
    assert later.freezes == 0 and later.concealed is None  # 4 reports of audio left
    log.page("site:1", 34.0, {"concealed_audio": 0.0, "audio_samples": 96_000})
    assert log.of("site:1", 34.0).concealed == 0.0


def test_reconnections_are_the_larger_of_the_pages_count_and_concords() -> None:
    log = ExperienceLog(window=30.0)
    log.page("site:2", 0.0, {"reconnections": 3})  # the page's baseline: counted before
    assert log.of("site:2", 0.0).reconnections == 0
    log.page("site:2", 2.0, {"reconnections": 5})  # two new peer connections
    log.reconnected("site:2", 2.5)  # Concord answered one of them (the other never arrived)
    assert log.of("site:2", 3.0).reconnections == 2
    log.reconnected("site:2", 4.0, 2)  # and Concord saw two more the page could not report
    assert log.of("site:2", 5.0).reconnections == 3
    log.page("site:2", 6.0, {"reconnections": 1})  # a reloaded page counts from 0 again
    assert log.of("site:2", 7.0).reconnections == 3
    assert log.of("site:2", 36.5).reconnections == 0  # all older than the window
    log.forget("site:2")
    assert log.of("site:2", 37.0) == Experience(window=30.0)


def test_what_people_experienced_lowers_the_score() -> None:
    clean = link()
    assert score(clean, T, Experience()) == 100
    assert score(clean, T, Experience(concealed=0.04)) == 80  # 5 points a percent concealed
    assert score(clean, T, Experience(freezes=2, frozen_seconds=3.0)) == 100 - 10 - 10
    assert score(clean, T, Experience(reconnections=2)) == 70
    everything = Experience(concealed=0.2, freezes=3, frozen_seconds=9, reconnections=2)
    assert score(clean, T, everything) == 0


@pytest.mark.parametrize(
    ("lived", "level", "downlink", "flags"),
    [
        (Experience(concealed=0.001), "good", "good", ()),  # under a point: no reason shown
        (Experience(concealed=0.01), "good", "good", ("concealed_audio",)),
        (Experience(concealed=0.03), "fair", "fair", ("concealed_audio",)),
        (Experience(concealed=0.10), "poor", "poor", ("concealed_audio",)),
        (Experience(freezes=1, frozen_seconds=0.4), "good", "good", ("frozen_received_video",)),
        (Experience(freezes=2, frozen_seconds=1.5), "fair", "fair", ("frozen_received_video",)),
        (Experience(freezes=4, frozen_seconds=6.0), "poor", "poor", ("frozen_received_video",)),
        (Experience(reconnections=1), "fair", "good", ("reconnected",)),
        (Experience(reconnections=3), "poor", "good", ("reconnected",)),
    ],
)
def test_past_its_thresholds_it_lowers_the_level_with_the_reason(
    lived: Experience, level: str, downlink: str, flags: tuple[str, ...]
) -> None:
    tracker = HealthTracker()
    tracker.update([Observation("site:3", link(), experience=lived)], now=0.0)
    [health] = tracker.health()
    assert (health.level, health.downlink, health.flags) == (level, downlink, flags)
    assert health.score < 100 if flags else health.score == 100
    if level != "good":
        # Concealed audio and frozen video are received: the downlink's; reconnections both.
        assert health.where == ("both" if "reconnected" in flags else "downlink")
    assert health.public()["experience"] == lived.public()


def test_a_poor_alert_says_what_people_experienced() -> None:
    tracker = HealthTracker(Thresholds(poor_for=0.0))
    lived = Experience(concealed=0.12, freezes=3, frozen_seconds=2.5, reconnections=1)
    tracker.update([Observation("site:4", link(), experience=lived)], now=0.0)
    [alert] = tracker.open_alerts()
    assert alert.kind == "poor"
    assert alert.facts == {
        "where": "downlink",
        "uplink_loss": 0.0,
        "downlink_loss": 0.0,
        "rtt": 0.02,
        "concealed": 0.12,
        "freezes": 3,
        "frozen_seconds": 2.5,
        "reconnections": 1,
    }
    assert "audio concealed 12.0%" in alert.detail and "1 reconnection(s)" in alert.detail


def test_a_listening_site_with_a_good_downlink_is_healthy_not_down() -> None:
    """No camera, no microphone, receiving well: listening, good, a high score."""
    tracker = HealthTracker(Thresholds(down_after=4.0))
    listener = link(frame_rate=None, level=None, silent_for=float("inf"), publishing=False)
    heard_well = Experience(concealed=0.0, freezes=0)
    for second in range(0, 12, 2):
        tracker.update([Observation("site:5", listener, experience=heard_well)], float(second))
    [health] = tracker.health()
    assert (health.level, health.score, health.flags) == ("good", 100, ("listening",))
    # What it hears concealed is what its people suffer: it counts for a listener too.
    muffled = Experience(concealed=0.15)
    tracker.update([Observation("site:5", listener, experience=muffled)], now=12.0)
    [health] = tracker.health()
    assert (health.level, health.where) == ("poor", "downlink")
    assert health.flags == ("listening", "concealed_audio") and health.score == 25
