"""The minutes as a document: one Jinja2 template (``minutes_export.html``) for the HTML export
and, printed by WeasyPrint, the PDF. Bilingual: each agenda item's texts in the conference's
languages side by side; the header says Draft, Circulated, or Final with the SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from server.minutes.build import AgendaItem, agenda_items
from server.minutes.document import Intervention, Minutes, SiteAttendance
from server.minutes.store import Current
from server.models import Conference


@dataclass(frozen=True)
class AttendanceLine:
    site: str
    present: bool
    minutes: int
    late: bool
    left_early: bool


@dataclass(frozen=True)
class TurnLine:
    site: str
    start: str
    end: str
    seconds: int


def titles(conference: Conference, languages: tuple[str, ...]) -> dict[str, str]:
    """The conference's title in each language (its own title where none was translated)."""
    out = {}
    for code in languages:
        translated = (conference.translations or {}).get(code, {})
        out[code] = (translated.get("title") if isinstance(translated, dict) else None) or (
            conference.title
        )
    return out


def _hhmm(value: Any, zone: ZoneInfo) -> str:
    return str(value.astimezone(zone).strftime("%H:%M"))


def export_context(conference: Conference, found: Current) -> dict[str, Any]:
    """What the export template shows (times in the conference's zone)."""
    minutes: Minutes = found.minutes
    zone = ZoneInfo(conference.time_zone)
    sites = {site.id: site.name for site in conference.sites}
    agenda: dict[str, AgendaItem] = {
        s.uid: AgendaItem(s.uid, s, s.starts_at, s.ends_at) for s in conference.sessions
    }
    agenda.update((item.key, item) for item in agenda_items(conference))
    by_session: dict[str, list[SiteAttendance]] = {}
    for row in minutes.attendance:
        by_session.setdefault(row.session_uid, []).append(row)
    turns: dict[str, list[Intervention]] = {}
    for turn in minutes.interventions:
        turns.setdefault(turn.session_uid, []).append(turn)
    items = []
    for item in minutes.items:
        planned = agenda.get(item.session_uid)
        items.append(
            {
                "item": item,
                "agenda_title": planned.session.title if planned is not None else "",
                "when": (
                    f"{planned.starts_at.astimezone(zone):%Y-%m-%d %H:%M}–"
                    f"{_hhmm(planned.ends_at, zone)}"
                    if planned is not None
                    else ""
                ),
                "attendance": [
                    AttendanceLine(
                        sites.get(r.site_id, f"#{r.site_id}"),
                        r.present,
                        r.minutes,
                        r.late,
                        r.left_early,
                    )
                    for r in by_session.get(item.session_uid, [])
                ],
                "turns": [
                    TurnLine(
                        sites.get(t.site_id, f"#{t.site_id}"),
                        _hhmm(t.start, zone),
                        _hhmm(t.end, zone),
                        round(t.seconds),
                    )
                    for t in turns.get(item.session_uid, [])
                ],
            }
        )
    return {
        "conference": conference,
        "minutes": minutes,
        "languages": minutes.languages,
        "titles": titles(conference, minutes.languages),
        "state": found.row.state,
        "digest": found.row.digest,
        "revision": found.row.revision,
        "finalised_at": found.row.finalised_at,
        "items": items,
        "zone": conference.time_zone,
    }
