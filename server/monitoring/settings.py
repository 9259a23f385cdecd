"""The health and metrics settings: this feature's section of the configuration
(``server.config.Section``), read with the rest of it; ``health_settings(config)`` gives them.

| setting | variable | default |
|---|---|---|
| loss at which a link is fair, % | ``CONCORD_HEALTH_LOSS_FAIR_PERCENT`` | 1 |
| loss at which a link is poor, % | ``CONCORD_HEALTH_LOSS_POOR_PERCENT`` | 3 |
| jitter that lowers a level, ms | ``CONCORD_HEALTH_JITTER_MS`` | 40 |
| round trip that lowers a level, ms | ``CONCORD_HEALTH_RTT_MS`` | 300 |
| poor this long raises an alert, s | ``CONCORD_HEALTH_ALERT_SECONDS`` | 10 |
| no media this long is "down", s | ``CONCORD_HEALTH_DOWN_SECONDS`` | 5 |
| what people experienced is summed over, s | ``CONCORD_HEALTH_EXPERIENCE_SECONDS`` | 30 |
| audio concealed: fair, poor % | ``CONCORD_HEALTH_CONCEALED_{FAIR,POOR}_PERCENT`` | 3, 10 |
| video frozen (of window): fair, poor % | ``CONCORD_HEALTH_FROZEN_{FAIR,POOR}_PERCENT`` | 5, 20 |
| reconnections in the window: fair, poor | ``CONCORD_HEALTH_RECONNECTIONS_{FAIR,POOR}`` | 1, 3 |
| samples kept, days | ``CONCORD_HEALTH_RETENTION_DAYS`` | 90 |
| ``/metrics`` bearer token | ``CONCORD_METRICS_TOKEN`` | none |
| ``/metrics`` open to (CIDRs) | ``CONCORD_METRICS_ALLOW`` | 127.0.0.1/32,::1/128 |
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from rooms.health import Thresholds
from server.config import Config, Reader, Section

SETTINGS = {
    "health_loss_fair_percent": "CONCORD_HEALTH_LOSS_FAIR_PERCENT",
    "health_loss_poor_percent": "CONCORD_HEALTH_LOSS_POOR_PERCENT",
    "health_jitter_ms": "CONCORD_HEALTH_JITTER_MS",
    "health_rtt_ms": "CONCORD_HEALTH_RTT_MS",
    "health_alert_seconds": "CONCORD_HEALTH_ALERT_SECONDS",
    "health_down_seconds": "CONCORD_HEALTH_DOWN_SECONDS",
    "health_experience_seconds": "CONCORD_HEALTH_EXPERIENCE_SECONDS",
    "health_concealed_fair_percent": "CONCORD_HEALTH_CONCEALED_FAIR_PERCENT",
    "health_concealed_poor_percent": "CONCORD_HEALTH_CONCEALED_POOR_PERCENT",
    "health_frozen_fair_percent": "CONCORD_HEALTH_FROZEN_FAIR_PERCENT",
    "health_frozen_poor_percent": "CONCORD_HEALTH_FROZEN_POOR_PERCENT",
    "health_reconnections_fair": "CONCORD_HEALTH_RECONNECTIONS_FAIR",
    "health_reconnections_poor": "CONCORD_HEALTH_RECONNECTIONS_POOR",
    "health_retention_days": "CONCORD_HEALTH_RETENTION_DAYS",
    "metrics_token": "CONCORD_METRICS_TOKEN",
    "metrics_allow": "CONCORD_METRICS_ALLOW",
}
DEFAULT_ALLOW = ("127.0.0.1/32", "::1/128")


@dataclass(frozen=True)
class HealthSettings:
    """How links are graded and alerted on, how long samples are kept, who may scrape."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    retention_days: int = 90
    metrics_token: str | None = None
    metrics_allow: tuple[str, ...] = DEFAULT_ALLOW


def read(reader: Reader) -> HealthSettings:
    """This section's settings; problems are appended to ``reader.problems``, named."""
    text, integer, number, problems = reader.text, reader.integer, reader.number, reader.problems

    def pair(
        fair_key: str, poor_key: str, defaults: tuple[float, float], high: float
    ) -> tuple[float, float]:
        fair = number(fair_key, defaults[0], 0, high)
        poor = number(poor_key, defaults[1], 0, high)
        if poor < fair:
            name = poor_key.removeprefix("health_").split("_poor")[0]
            problems.append(f"the poor {name} threshold must not be below the fair one")
        return fair, poor

    fair, poor = pair("health_loss_fair_percent", "health_loss_poor_percent", (1, 3), 100)
    concealed = pair("health_concealed_fair_percent", "health_concealed_poor_percent", (3, 10), 100)
    frozen = pair("health_frozen_fair_percent", "health_frozen_poor_percent", (5, 20), 100)
    reconnections = pair("health_reconnections_fair", "health_reconnections_poor", (1, 3), 1000)
    if any(n != int(n) for n in reconnections):
        problems.append("the reconnection thresholds must be whole numbers")
    thresholds = Thresholds(
        loss_fair=fair / 100,
        loss_poor=poor / 100,
        jitter=number("health_jitter_ms", 40, 1, 10_000) / 1000,
        rtt=number("health_rtt_ms", 300, 1, 60_000) / 1000,
        poor_for=number("health_alert_seconds", 10, 0, 3600),
        down_after=number("health_down_seconds", 5, 1, 600),
        experience_window=number("health_experience_seconds", 30, 4, 3600),
        concealed_fair=concealed[0] / 100,
        concealed_poor=concealed[1] / 100,
        frozen_fair=frozen[0] / 100,
        frozen_poor=frozen[1] / 100,
        reconnections_fair=int(reconnections[0]),
        reconnections_poor=int(reconnections[1]),
    )
    token = text("metrics_token", None) or None
    if token is not None and len(token) < 16:
        problems.append("the metrics token must be at least 16 characters long")
    allow = _networks(text("metrics_allow", None), problems)
    return HealthSettings(
        thresholds=thresholds,
        retention_days=integer("health_retention_days", 90, 1, 3650),
        metrics_token=token,
        metrics_allow=allow,
    )


SECTION = Section("health", SETTINGS, read, HealthSettings())


def health_settings(config: Config) -> HealthSettings:
    return config.section(SECTION)


def _networks(value: str | None, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_ALLOW
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            problems.append(f"CONCORD_METRICS_ALLOW: {part!r} is not an IP address or network")
    return tuple(networks)


def with_health(config: Config, **changes: Any) -> Config:
    """``config`` with some of its health settings changed (``HealthSettings`` field names)."""
    changed = replace(health_settings(config), **changes)
    return replace(config, sections={**config.sections, SECTION.name: changed})
