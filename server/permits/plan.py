"""What a permit approves of the conference's plan: its dates, its format, its sites and its
foreign delegations. A change to any of these after the approval is *material* and sends the
conference back for approval (``reapproval``); any other edit (titles and their translations,
the description, the sessions, interpreters, the members of a delegation) is not.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences.queries import conference_detail
from server.i18n_strings import N_
from server.models import Conference

Plan = dict[str, Any]
MATERIAL = {
    "dates": N_("dates"),
    "format": N_("format"),
    "sites": N_("sites"),
    "foreign": N_("foreign participants"),
}


def plan_of(conference: Conference) -> Plan:
    """The material facts of a conference whose sites and delegations are loaded."""
    zone = ZoneInfo(conference.time_zone)
    hosts = {d.country for d in conference.delegations if d.is_host}
    return {
        "dates": [
            conference.starts_at.astimezone(zone).date().isoformat(),
            conference.ends_at.astimezone(zone).date().isoformat(),
        ],
        "format": conference.kind,
        "sites": sorted(f"{site.name} ({site.time_zone})" for site in conference.sites),
        "foreign": sorted(
            f"{d.country}: {d.organisation}"
            for d in conference.delegations
            if not d.is_host and d.country not in hosts
        ),
    }


async def current_plan(db: AsyncSession, conference_id: int) -> Plan:
    return plan_of(await conference_detail(db, conference_id))


def changes(before: Plan, after: Plan) -> dict[str, dict[str, Any]]:
    """The material points that differ: for each, what was approved and what it is now (for
    lists, what was added and removed)."""
    found: dict[str, dict[str, Any]] = {}
    for key in MATERIAL:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in ("sites", "foreign"):
            found[key] = {
                "added": sorted(set(new or []) - set(old or [])),
                "removed": sorted(set(old or []) - set(new or [])),
            }
        else:
            found[key] = {"approved": old, "now": new}
    return found


def summary(found: dict[str, dict[str, Any]]) -> str:
    """One line per material change, in English (the history's comment; the audit log keeps
    the structured ``changes``)."""
    lines = []
    for key, change in found.items():
        if "added" in change:
            parts = [f"+ {item}" for item in change["added"]]
            parts += [f"− {item}" for item in change["removed"]]
            lines.append(f"{key}: " + "; ".join(parts))
        else:
            old, new = change["approved"], change["now"]
            shown = (" – ".join(v) if isinstance(v, list) else str(v) for v in (old, new))
            lines.append(f"{key}: " + " → ".join(shown))
    return "\n".join(lines)
