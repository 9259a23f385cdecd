"""Connection health: the samples behind the dashboard's charts and the quality report, and
the pre-conference site checks behind the readiness board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow


class HealthSample(Base):
    """One 2-second window of one site's or interpreter's connection, as Concord measured it.

    ``subject`` is ``site:<id>`` or ``interpreter:<user id>``; the columns are what the report
    aggregates, ``data`` the rest (flags, where the trouble was, the page's own figures).
    Kept for ``HealthSettings.retention_days`` (``server.monitoring.settings``).
    """

    __tablename__ = "health_samples"
    __table_args__ = (
        Index("ix_health_samples_conference_at", "conference_id", "at"),
        Index("ix_health_samples_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime]
    level: Mapped[str] = mapped_column(String(8))
    score: Mapped[int]
    rtt: Mapped[float | None] = mapped_column(Float)
    up_loss: Mapped[float | None] = mapped_column(Float)
    up_jitter: Mapped[float | None] = mapped_column(Float)
    up_bitrate: Mapped[float | None] = mapped_column(Float)
    down_loss: Mapped[float | None] = mapped_column(Float)
    down_jitter: Mapped[float | None] = mapped_column(Float)
    down_bitrate: Mapped[float | None] = mapped_column(Float)
    frame_rate: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SiteCheck(Base):
    """One pre-conference check of a site: devices and a network test through the media path.

    ``results`` holds each step's outcome (camera, microphone, speaker, network) and the
    measured round trip, loss and bitrate; ``failed`` names the steps that failed.
    """

    __tablename__ = "site_checks"
    __table_args__ = (Index("ix_site_checks_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    passed: Mapped[bool]
    failed: Mapped[list[str]] = mapped_column(JSON, default=list)
    rtt: Mapped[float | None] = mapped_column(Float)
    loss: Mapped[float | None] = mapped_column(Float)
    bitrate: Mapped[float | None] = mapped_column(Float)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by: Mapped[str] = mapped_column(String(320), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
