"""The retention settings: this feature's section of the configuration
(``server.config.Section``), read with the rest of it; ``retention_settings(config)`` gives them.

A period per kind of record, in days counted from the end of the record's conference; ``0``
keeps that kind forever. ``concord archive prune`` deletes what has expired, except for a
conference on legal hold (``server.archive.hold``).

| kind | variable (the setting: lowercase, no ``CONCORD_``) | default |
|---|---|---|
| recordings' media files | ``CONCORD_RETENTION_RECORDINGS_DAYS`` | 0 |
| room events | ``CONCORD_RETENTION_ROOM_EVENTS_DAYS`` | 0 |
| health samples | ``CONCORD_HEALTH_RETENTION_DAYS`` | 90 |
| draft revisions of final minutes | ``CONCORD_RETENTION_MINUTES_DRAFTS_DAYS`` | 0 |

Health samples keep their setting from ``server.monitoring.settings`` (1 to 3650 days).
Never deleted, whatever the settings: the ledger's entries and heads (a pruned recording's
SHA-256 stays provable, and its ``RecordingFile`` row is kept), the final text of the
minutes (its current revision) and the comments on it, agreements and their signed
versions (they are the record the archive exists for), and the audit log (it records the
prunes themselves).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.config import Config, Reader, Section

SETTINGS = {
    "retention_recordings_days": "CONCORD_RETENTION_RECORDINGS_DAYS",
    "retention_room_events_days": "CONCORD_RETENTION_ROOM_EVENTS_DAYS",
    "retention_minutes_drafts_days": "CONCORD_RETENTION_MINUTES_DRAFTS_DAYS",
}
MAX_DAYS = 36_500  # a hundred years: longer is "forever", which is 0


@dataclass(frozen=True)
class RetentionSettings:
    """Days after a conference's end each kind is kept; 0 keeps it forever."""

    recordings_days: int = 0
    room_events_days: int = 0
    minutes_drafts_days: int = 0


def read(reader: Reader) -> RetentionSettings:
    """This section's settings; ``reader.integer`` names any problem."""
    days = {key: reader.integer(key, 0, 0, MAX_DAYS) for key in SETTINGS}
    return RetentionSettings(
        recordings_days=days["retention_recordings_days"],
        room_events_days=days["retention_room_events_days"],
        minutes_drafts_days=days["retention_minutes_drafts_days"],
    )


SECTION = Section("retention", SETTINGS, read, RetentionSettings())


def retention_settings(config: Config) -> RetentionSettings:
    return config.section(SECTION)
