"""What the conference's health dashboards are sent on ``/room`` (docs/signalling.md,
"Connection health"): ``health.report`` every 2 s and ``health.change`` when a person changed
something (an alert acknowledged). The rows, alerts and changes are built by the media plane
(``rooms/health.py``, ``rooms/monitor.py``) as plain values; they are typed here, and every
report is validated against these models before it goes out.

``health.report`` is the most frequent event a room sends (every 2 s). Validating and dumping a
report of 25 sites took 0.2–0.4 ms on a busy machine (the dict alone: 1.4 µs; ``json.dumps``
of it, which socket.io does anyway: 0.2–0.25 ms): at most 0.02% of a core per conference, so
it is validated, not built with ``model_construct``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from rooms.health import AlertKind, Change, Level, Where
from rooms.monitor import HealthReport
from server.sent import Sent, Shape


class Figures(Shape):
    """One direction of a link over the window."""

    loss: float | None
    jitter: float | None  # s
    bitrate: float | None  # bit/s
    packets: int


class Experienced(Shape):
    """What a site's people experienced over the window."""

    freezes: int
    frozen_seconds: float
    concealed: float | None  # share of received audio (None: not 10 s of audio reported)
    reconnections: int
    window: float  # s


class HealthRow(Shape):
    subject: str  # "site:<id>" or "interpreter:<user id>"
    level: Level
    score: int
    uplink: Figures
    downlink: Figures
    where: Where | None  # None while good
    flags: list[str]
    since: float
    at: float
    connection: str
    rtt: float | None
    frame_rate: float | None
    keyframe_requests: int
    nacks: int
    silent_for: float | None
    audio_level: int | None  # -dBov
    experience: Experienced | None
    name: str
    kind: Literal["site", "interpreter"]
    booth: str | None  # an interpreter's language
    browser: dict[str, Any] | None  # the page's last ``BrowserStats``


class Alert(Shape):
    id: int
    subject: str
    kind: AlertKind
    raised_at: float
    detail: str  # English, for logs
    facts: dict[str, Any]  # what a page words in its user's language
    cleared_at: float | None
    acknowledged_by: str | None


class LevelChange(Shape):
    type: Literal["level"]
    subject: str
    from_: Level | None = Field(alias="from")
    to: Level
    where: Where | None


class ConnectionChange(Shape):
    type: Literal["connection"]
    subject: str
    from_: str | None = Field(alias="from")
    to: str | None


class _AlertChanged(Shape):
    type: Literal["alert", "cleared", "acknowledged"]
    subject: str


class AlertChange(Alert, _AlertChanged):
    """An alert raised, cleared or acknowledged: what happened to it, then the alert (its
    fields in the order they were always sent: ``type``, ``subject``, ``id``...)."""


HealthChange = Annotated[LevelChange | ConnectionChange | AlertChange, Field(discriminator="type")]


class AlertNotice(AlertChange, Sent):
    """``health.change``: a change a person made (an alert acknowledged), shown at once."""

    event: ClassVar[str] = "health.change"


class ServerLoad(Shape):
    loop_lag: float  # s
    cpu: float  # share of a core


class HealthUpdate(Sent):
    """``health.report`` to the conference's dashboards, every 2 s."""

    event: ClassVar[str] = "health.report"

    conference_id: int
    at: float
    rows: list[HealthRow]
    alerts: list[Alert]
    changes: list[HealthChange]
    server: ServerLoad | None

    @classmethod
    def of(cls, conference_id: int, report: HealthReport) -> HealthUpdate:
        """The room's report, as its dashboards are sent it."""
        return cls.model_validate(
            {
                "conference_id": conference_id,
                "at": report.at,
                "rows": report.rows,
                "alerts": report.alerts,
                "changes": [change_out(c) for c in report.changes],
                "server": report.server.public() if report.server else None,
            }
        )


def change_out(change: Change) -> dict[str, Any]:
    """A change as it is sent: its type and subject with its data."""
    return {"type": change.type, "subject": change.subject, **change.data}


def alert_notice(change: Change) -> AlertNotice:
    return AlertNotice.model_validate(change_out(change))
