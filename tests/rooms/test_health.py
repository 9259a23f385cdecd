"""Health levels, scores, where the trouble is, and alerts, from known samples and a clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rooms.health import (
    HealthTracker,
    Observation,
    ServerLoad,
    Thresholds,
    grade_direction,
    score,
)
from rooms.link_stats import Direction, LinkSample


def link(
    up_loss: float = 0.0,
    down_loss: float = 0.0,
    rtt: float = 0.02,
    jitter: float = 0.005,
    frame_rate: float | None = 25.0,
    level: int | None = 40,
    silent_for: float = 0.01,
    connection: str = "connected",
    publishing: bool = True,
    reported_for: float = 0.5,
) -> LinkSample:
    return LinkSample(
        at=0.0,
        connection=connection,
        rtt=rtt,
        uplink=Direction(up_loss, jitter, 1_000_000, 500),
        downlink=Direction(down_loss, jitter, 2_000_000, 900),
        frame_rate=frame_rate,
        keyframe_requests=0,
        nacks=0,
        silent_for=silent_for,
        audio_level=level,
        publishing=publishing,
        reported_for=reported_for,
    )


T = Thresholds()


@pytest.mark.parametrize(
    ("loss", "jitter", "rtt", "level"),
    [
        (0.0, 0.005, 0.02, "good"),
        (0.009, 0.005, 0.02, "good"),
        (0.01, 0.005, 0.02, "fair"),
        (0.029, 0.005, 0.02, "fair"),
        (0.03, 0.005, 0.02, "poor"),
        (0.0, 0.041, 0.02, "fair"),  # jitter over 40 ms lowers good to fair
        (0.0, 0.005, 0.31, "fair"),  # so does a round trip over 300 ms
        (0.02, 0.005, 0.31, "poor"),  # fair lowered to poor
        (0.05, 0.05, 0.4, "poor"),  # never below poor
    ],
)
def test_levels_follow_the_thresholds(loss: float, jitter: float, rtt: float, level: str) -> None:
    assert grade_direction(Direction(loss, jitter, None, 100), rtt, T) == level


def test_thresholds_are_configurable() -> None:
    strict = Thresholds(loss_fair=0.001, loss_poor=0.005, rtt=0.1)
    assert grade_direction(Direction(0.002, 0.0, None, 1), 0.02, strict) == "fair"
    assert grade_direction(Direction(0.0, 0.0, None, 1), 0.15, strict) == "fair"


def test_score_falls_with_loss_jitter_and_round_trip() -> None:
    assert score(link(), T) == 100
    assert score(link(up_loss=0.05), T) == 50
    assert score(link(rtt=0.3), T) == 85
    assert score(link(jitter=0.06), T) == 80
    assert score(link(up_loss=0.2, rtt=1.0), T) == 0


def test_the_worse_direction_says_where_the_trouble_is() -> None:
    tracker = HealthTracker()
    tracker.update(
        [
            Observation("site:1", link(up_loss=0.05)),
            Observation("site:2", link(down_loss=0.02)),
            Observation("site:3", link(up_loss=0.05, down_loss=0.05)),
            Observation("site:4", link()),
        ],
        now=100.0,
    )
    by = {h.subject: h for h in tracker.health()}
    assert (by["site:1"].level, by["site:1"].where) == ("poor", "uplink")
    assert (by["site:2"].level, by["site:2"].where) == ("fair", "downlink")
    assert (by["site:3"].level, by["site:3"].where) == ("poor", "both")
    assert (by["site:4"].level, by["site:4"].where) == ("good", None)


def test_the_trouble_is_put_at_the_server_only_when_the_server_says_so() -> None:
    """Two of three sites on bad links are two bad links (a majority rule said "server")."""
    tracker = HealthTracker()
    poor = [Observation(f"site:{n}", link(up_loss=0.06)) for n in range(2)]
    tracker.update([*poor, Observation("site:9", link())], now=1.0)
    assert {h.where for h in tracker.health() if h.level == "poor"} == {"uplink"}
    # The server's event loop woke late, or its CPU is busy: the same rows, the server's.
    for load in (ServerLoad(loop_lag=0.4, cpu=0.3), ServerLoad(loop_lag=0.01, cpu=0.95)):
        tracker.update([*poor, Observation("site:9", link())], now=2.0, server=load)
        assert {h.where for h in tracker.health() if h.level == "poor"} == {"server"}
    calm = ServerLoad(loop_lag=0.01, cpu=0.2)
    tracker.update([*poor, Observation("site:9", link())], now=3.0, server=calm)
    assert {h.where for h in tracker.health() if h.level == "poor"} == {"uplink"}
    # Every connected site (at least 3) poor at once: the one thing they share, the server.
    everyone = [Observation(f"site:{n}", link(down_loss=0.06)) for n in range(3)]
    tracker.update(everyone, now=4.0, server=calm)
    assert {h.where for h in tracker.health() if h.subject != "site:9"} == {"server"}


def test_poor_for_ten_seconds_raises_one_alert_which_clears_on_recovery() -> None:
    tracker = HealthTracker()
    changes = []
    for second in range(0, 14, 2):
        changes += tracker.update([Observation("site:5", link(up_loss=0.05))], now=float(second))
    alerts = [c for c in changes if c.type == "alert"]
    assert len(alerts) == 1 and alerts[0].data["kind"] == "poor"
    assert alerts[0].data["raised_at"] == 10.0
    assert "uplink loss 5.0%" in alerts[0].data["detail"]
    facts = alerts[0].data["facts"]  # what a page words in its user's language
    assert facts == {"where": "uplink", "uplink_loss": 0.05, "downlink_loss": 0.0, "rtt": 0.02}
    assert [c.data["to"] for c in changes if c.type == "level"] == ["poor"]
    # A short dip below the threshold does not clear it; being fair again does.
    back = tracker.update([Observation("site:5", link(up_loss=0.015))], now=14.0)
    assert [c.type for c in back] == ["level", "cleared"]
    assert tracker.open_alerts() == [] and tracker.alerts[0].cleared_at == 14.0
    # Poor for less than the threshold: no alert.
    for at in (16.0, 18.0, 20.0):
        tracker.update([Observation("site:5", link(up_loss=0.05))], now=at)
    tracker.update([Observation("site:5", link())], now=22.0)
    assert len(tracker.alerts) == 1


def test_a_site_that_stops_sending_is_down_at_once_and_back_when_it_returns() -> None:
    tracker = HealthTracker(Thresholds(down_after=4.0))
    tracker.update([Observation("site:7", link())], now=0.0)
    assert tracker.update([Observation("site:7", link(silent_for=3.0))], now=2.0)[:1] == []
    changes = tracker.update([Observation("site:7", link(silent_for=5.0))], now=4.0)
    assert [c.type for c in changes] == ["level", "alert"]
    assert changes[1].data["kind"] == "down" and "no media" in changes[1].data["detail"]
    assert changes[1].data["facts"] == {"silent_for": 5}
    assert tracker.health()[0].score == 0  # down: nothing reached its people, whatever the figures
    gone = tracker.update([Observation("site:7", LinkSample.closed(6.0))], now=6.0)
    assert [c.type for c in gone] == ["connection"]  # still the same alert
    assert gone[0].data == {"from": "connected", "to": "closed"}
    back = tracker.update([Observation("site:7", link())], now=20.0)
    assert [c.type for c in back] == ["connection", "level", "cleared"]
    assert tracker.health()[0].level == "good" and tracker.health()[0].score == 100


def test_an_interpreter_silent_on_air_is_an_alert_a_muted_site_is_not_flagged() -> None:
    tracker = HealthTracker()
    quiet = link(level=127)
    changes = []
    for second in range(0, 8, 2):
        changes += tracker.update(
            [
                Observation("interpreter:5", quiet, on_air=True),
                Observation("site:2", quiet, muted=True),
                Observation("site:3", quiet),
            ],
            now=float(second),
        )
    alerts = [c for c in changes if c.type == "alert"]
    assert [(a.subject, a.data["kind"]) for a in alerts] == [("interpreter:5", "silent_on_air")]
    by = {h.subject: h for h in tracker.health()}
    assert "silent_microphone" in by["site:3"].flags and by["site:3"].level == "fair"
    assert by["site:2"].flags == () and by["site:2"].level == "good"
    # Speaking again clears it.
    cleared = tracker.update([Observation("interpreter:5", link(), on_air=True)], now=8.0)
    assert [c.type for c in cleared] == ["level", "cleared"]


def test_a_frozen_camera_lowers_the_level() -> None:
    tracker = HealthTracker()
    for second in (0.0, 2.0, 4.0):
        tracker.update([Observation("site:4", link(frame_rate=0.0))], now=second)
    [health] = tracker.health()
    assert "frozen_video" in health.flags and health.level == "fair"


def test_alerts_are_acknowledged_once_and_forgotten_with_their_site() -> None:
    tracker = HealthTracker(Thresholds(poor_for=0.0))
    tracker.update([Observation("site:8", link(up_loss=0.1))], now=0.0)
    [alert] = tracker.open_alerts()
    assert tracker.acknowledge(alert.id, "technician@x") is alert
    assert tracker.acknowledge(alert.id, "someone else") is alert
    assert alert.acknowledged_by == "technician@x"
    assert tracker.acknowledge(999, "x") is None
    [cleared] = tracker.forget("site:8", now=3.0)
    assert cleared.type == "cleared" and tracker.health() == []


def test_browser_reports_add_what_only_the_page_knows() -> None:
    tracker = HealthTracker()
    browser = {"limitation": "bandwidth"}
    tracker.update([Observation("site:1", replace(link()), browser=browser)], now=0.0)
    [health] = tracker.health()
    assert set(health.flags) == {"limited_by_bandwidth"}


def test_a_site_that_only_receives_is_listening_and_healthy_until_its_reports_stop() -> None:
    """No camera, no microphone: nothing ever comes from it but receiver reports."""
    tracker = HealthTracker(Thresholds(down_after=4.0))
    listener = link(frame_rate=None, level=None, silent_for=float("inf"), publishing=False)
    for second in range(0, 20, 2):  # longer than down_after and silent_for
        changes = tracker.update([Observation("site:8", listener)], now=float(second))
        assert not [c for c in changes if c.type == "alert"], changes
    [health] = tracker.health()
    assert (health.level, health.score, health.flags) == ("good", 100, ("listening",))
    # Its receiver reports stop while Concord still sends to it: gone.
    gone = replace(listener, reported_for=5.0)
    changes = tracker.update([Observation("site:8", gone)], now=20.0)
    assert [c.type for c in changes] == ["level", "alert"]
    assert changes[1].data["kind"] == "down" and changes[1].data["detail"] == "connection lost"
    # With nothing sent to it, a listener has nothing to report on: not down for that.
    idle = replace(gone, downlink=replace(gone.downlink, packets=0))
    assert tracker.update([Observation("site:8", idle)], now=22.0)[0].data["to"] == "good"
