"""The processing report: per month, quarter or year, from the stored steps.

For each period:

- *submitted*: applications first submitted in it; *decided* (approved + rejected): decided in it;
- the processing time of a decided application is the number of working days from its last
  (re)submission to the decision (see ``clock``); the period's median and 90th percentile use
  linear interpolation between the closest ranks (numpy's default, as PostgreSQL's
  ``percentile_cont``);
- *on time*: the share of decisions taken on or before the deadline;
- *change against the deadline*: (median − deadline) / deadline; −0.3 means the median
  application was decided 30% faster than the law allows.

Dates are the authority's (``permit_time_zone``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import InvalidInput
from server.fields import FIRST_YEAR, LAST_YEAR
from server.i18n_strings import N_
from server.models import PermitStep
from server.permits.clock import Procedure
from server.permits.schemas import Period, ReportOut, ReportRow

SUBMISSIONS = ("submitted", "resubmitted", "reopened")  # reopened: a re-approval (reapproval.py)
DECISIONS = ("approved", "rejected")
MAX_SPAN_DAYS = 366 * 10


@dataclass(frozen=True)
class Handled:
    """One application's history, reduced to what the report counts."""

    first_submitted: dt.date | None
    received: dt.date | None  # the (re)submission the decision answered
    decided: dt.date | None
    outcome: str | None


def reduce_steps(steps: Iterable[PermitStep], procedure: Procedure) -> Handled:
    """Walk one application's steps in order."""
    first: dt.date | None = None
    received: dt.date | None = None
    decided: dt.date | None = None
    outcome: str | None = None
    for step in sorted(steps, key=lambda s: (s.at, s.id or 0)):
        day = procedure.calendar.local_date(step.at)
        if step.action in SUBMISSIONS:
            first = first or day
            received = day
        elif step.action in DECISIONS and received is not None:
            decided, outcome = day, step.action
    return Handled(first, received, decided, outcome)


def period_of(day: dt.date, period: Period) -> str:
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def periods_between(start: dt.date, end: dt.date, period: Period) -> list[str]:
    names: list[str] = []
    day = start.replace(day=1)
    while day <= end:
        name = period_of(max(day, start), period)
        if not names or names[-1] != name:
            names.append(name)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return names


def _row(name: str, handled: Sequence[Handled], submitted: int, procedure: Procedure) -> ReportRow:
    calendar = procedure.calendar
    spans = [(h.received, h.decided) for h in handled if h.received and h.decided]
    days = [calendar.between(received, decided) for received, decided in spans]
    on_time = [
        decided <= calendar.deadline(received, procedure.deadline_days)
        for received, decided in spans
    ]
    decided = [h for h in handled if h.received and h.decided]
    median = p90 = share = change = None
    if days:
        median = round(float(np.median(days)), 2)
        p90 = round(float(np.percentile(days, 90)), 2)
        share = round(sum(on_time) / len(on_time), 4)
        change = round((median - procedure.deadline_days) / procedure.deadline_days, 4)
    return ReportRow(
        period=name,
        submitted=submitted,
        decided=len(decided),
        approved=sum(1 for h in decided if h.outcome == "approved"),
        rejected=sum(1 for h in decided if h.outcome == "rejected"),
        median_working_days=median,
        p90_working_days=p90,
        on_time_share=share,
        change_vs_deadline=change,
    )


def build_report(
    histories: Iterable[Handled],
    procedure: Procedure,
    period: Period,
    start: dt.date,
    end: dt.date,
) -> ReportOut:
    decided_in: dict[str, list[Handled]] = defaultdict(list)
    submitted_in: dict[str, int] = defaultdict(int)
    all_decided: list[Handled] = []
    all_submitted = 0
    for handled in histories:
        if handled.first_submitted and start <= handled.first_submitted <= end:
            submitted_in[period_of(handled.first_submitted, period)] += 1
            all_submitted += 1
        if handled.decided and start <= handled.decided <= end:
            decided_in[period_of(handled.decided, period)].append(handled)
            all_decided.append(handled)
    rows = [
        _row(name, decided_in[name], submitted_in[name], procedure)
        for name in periods_between(start, end, period)
    ]
    return ReportOut(
        period=period,
        start=start,
        end=end,
        deadline_working_days=procedure.deadline_days,
        rows=rows,
        total=_row("total", all_decided, all_submitted, procedure),
    )


def check_range(start: dt.date, end: dt.date) -> None:
    outside = (
        (N_("from: %(day)s is outside the years %(first)s to %(last)s"), start),
        (N_("to: %(day)s is outside the years %(first)s to %(last)s"), end),
    )
    for template, day in outside:
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidInput(
                template,
                code="bad_range",
                params={
                    "day": str(day),
                    "first": str(FIRST_YEAR),
                    "last": str(LAST_YEAR),
                },
            )
    if end < start:
        raise InvalidInput(
            N_("the report ends (%(end)s) before it starts (%(start)s)"),
            code="bad_range",
            params={"end": str(end), "start": str(start)},
        )
    if (end - start).days > MAX_SPAN_DAYS:
        raise InvalidInput(N_("a report covers at most ten years"), code="bad_range")


async def permit_report(
    db: AsyncSession, procedure: Procedure, period: Period, start: dt.date, end: dt.date
) -> ReportOut:
    """Load the steps of every application submitted or decided in the range, then count."""
    check_range(start, end)
    zone = ZoneInfo(procedure.calendar.time_zone)
    # A day of slack on each side: the local dates are decided in Python.
    low = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), zone)
    high = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), zone)
    in_range = select(PermitStep.application_id).where(
        PermitStep.action.in_(SUBMISSIONS + DECISIONS), PermitStep.at >= low, PermitStep.at < high
    )
    steps = await db.scalars(
        select(PermitStep)
        .where(PermitStep.application_id.in_(in_range))
        .order_by(PermitStep.application_id, PermitStep.at, PermitStep.id)
    )
    by_application: dict[int, list[PermitStep]] = defaultdict(list)
    for step in steps:
        by_application[step.application_id].append(step)
    histories = [reduce_steps(found, procedure) for found in by_application.values()]
    return build_report(histories, procedure, period, start, end)
