"""The main pages of Concord's planning and records, as the demo's admin sees them: the pages
whose layout, accessibility and date formats the tests check in every language (issue 17)."""

from __future__ import annotations

MAIN_PAGES = (
    "/",
    "/conferences/1",
    *(f"/conferences/1/edit?step={step}" for step in ("basics", "sites", "sessions")),
    *(f"/conferences/1/edit?step={step}" for step in ("interpreters", "delegations")),
    "/conferences/1/timetable",
    "/conferences/1/agreements",
    "/conferences/1/minutes",
    "/conferences/1/recordings",
    "/conferences/1/quality",
    "/conferences/1/permit",
    "/permits",
    "/permits/report",
    "/account",
    "/admin/users",
    "/calendar",
    "/calendar/week",
    "/search?q=hop+tac",
)
