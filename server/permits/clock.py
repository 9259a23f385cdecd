"""The statutory clock of an application: when it started, when it is due, how long it took.

The deadline is counted in working days from the (re)submission. When the approver asks for
changes the clock stops, and the resubmission starts it again from zero: as for Vietnamese
administrative procedures, the time limit runs from the receipt of a complete dossier. The
processing time of a decided application is therefore counted from its last (re)submission.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from server.config import Config
from server.models import PermitApplication, PermitStatus
from server.permits import holidays
from server.permits.schemas import ClockOut
from server.permits.settings import PermitRules, permit_rules
from server.permits.workdays import HolidaysUnknown, WorkingCalendar

RUNNING = frozenset({PermitStatus.SUBMITTED, PermitStatus.RESUBMITTED})
DECIDED = frozenset({PermitStatus.APPROVED, PermitStatus.REJECTED})
NOT_SUBMITTED = frozenset({PermitStatus.DRAFT, PermitStatus.CHANGES_REQUESTED})


@dataclass(frozen=True)
class Procedure:
    """The rules of the procedure: the authority's calendar, the statutory deadline, and the
    rules of Decision 06/2020/QĐ-TTg (lead times, opinions)."""

    calendar: WorkingCalendar
    deadline_days: int
    authority: str = ""
    rules: PermitRules = field(default_factory=PermitRules)

    @classmethod
    def from_config(cls, config: Config) -> Procedure:
        years = holidays.by_year(config.permit_holidays)
        calendar = WorkingCalendar.of_years(years, config.permit_time_zone)
        return cls(
            calendar,
            config.permit_deadline_working_days,
            config.permit_authority,
            permit_rules(config),
        )

    def due_on(self, received: dt.datetime) -> dt.date:
        return self.calendar.deadline(self.calendar.local_date(received), self.deadline_days)

    def today(self, now: dt.datetime) -> dt.date:
        return self.calendar.local_date(now)

    def due_if_submitted(self, now: dt.datetime) -> dt.date | None:
        """When the decision would be due if submitted now; none when that count reaches a
        year whose holidays are not known."""
        try:
            return self.calendar.deadline(self.today(now), self.deadline_days)
        except HolidaysUnknown:
            return None

    def clock(self, application: PermitApplication, now: dt.datetime) -> ClockOut:
        """Where the application stands today; a count that reaches a year whose holidays are
        not known is left out and that year named (``holidays_unknown``)."""
        try:
            return self._clock(application, now)
        except HolidaysUnknown as missing:
            status = PermitStatus(application.status)
            started = application.clock_started_at
            running_or_decided = status in RUNNING | DECIDED
            return ClockOut(
                deadline_working_days=self.deadline_days,
                received_on=self.calendar.local_date(started)
                if started and running_or_decided
                else None,
                due_on=application.due_on if running_or_decided else None,
                working_days_left=None,
                overdue=False,
                processing_working_days=None,
                decided_on_time=None,
                holidays_unknown=missing.year,
            )

    def _clock(self, application: PermitApplication, now: dt.datetime) -> ClockOut:
        status = PermitStatus(application.status)
        started = application.clock_started_at
        received = self.calendar.local_date(started) if started else None
        due = application.due_on
        left: int | None = None
        overdue = False
        processing: int | None = None
        on_time: bool | None = None
        if status in RUNNING and received and due:
            today = self.today(now)
            overdue = today > due
            if overdue:  # at least one day late, even on the weekend right after the due date
                left = -max(1, self.calendar.between(due, today))
            else:
                left = self.calendar.between(today, due)
        if_today = None
        if status in NOT_SUBMITTED:
            if_today = self.calendar.deadline(self.today(now), self.deadline_days)
        elif status in DECIDED and received and due and application.decided_at:
            decided = self.calendar.local_date(application.decided_at)
            processing = self.calendar.between(received, decided)
            on_time = decided <= due
        return ClockOut(
            deadline_working_days=self.deadline_days,
            received_on=received if status in RUNNING | DECIDED else None,
            due_on=due if status in RUNNING | DECIDED else None,
            working_days_left=left,
            overdue=overdue,
            processing_working_days=processing,
            decided_on_time=on_time,
            due_if_submitted_today=if_today,
            due_after_start=_too_late(status, due, if_today, application.starts_on),
        )


def _too_late(
    status: PermitStatus, due: dt.date | None, if_today: dt.date | None, starts_on: dt.date | None
) -> bool:
    """The decision is due (or, submitted today, would be due) on or after the first day."""
    expected = due if status in RUNNING else if_today
    return expected is not None and starts_on is not None and expected >= starts_on
