"""Every feature's settings section (``server.config.Section``), and ``load_config`` with all
of them: what the CLI, the benchmarks and the tests load. ``server.config`` itself knows no
feature; a feature declares its settings in its own ``settings.py``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server import config
from server.archive import settings as retention
from server.monitoring import settings as health
from server.permits import settings as permit

SECTIONS: tuple[config.Section[Any], ...] = (health.SECTION, retention.SECTION, permit.SECTION)


def load_config(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> config.Config:
    """``server.config.load_config`` with every feature's settings."""
    return config.load_config(environ, config_file, overrides, sections=SECTIONS)
