"""Who decides the conference, and how early the application must reach the authority.

Decision 06/2020/QĐ-TTg (in force from 15 April 2020) gives the Prime Minister the conferences
with foreign ministers or heads of foreign delegations, and those touching sovereignty,
borders, security, defence, ethnicity, religion, human rights or state secrets; another
competent person (a minister, a provincial chairman for the province's own units) decides
the others. The Ministry of Foreign Affairs' procedure (Decision 729/QĐ-BNG) asks the
application to reach the authority at least 40 days before the first kind and 30 days before
the second (``settings.PermitRules``; calendar days, counted to the conference's first day).

Concord suggests the level from the application's answers; the organiser may choose the other
one, and whoever submits confirms it. A submission later than the lead time is refused unless
the submitter says that they submit it late, which is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from server.errors import InvalidInput
from server.i18n_strings import N_
from server.models import DecidingLevel, PermitApplication
from server.permits.settings import PermitRules

TOPICS = {
    "sovereignty": N_("sovereignty"),
    "borders": N_("borders"),
    "security": N_("national security"),
    "defence": N_("defence"),
    "ethnicity": N_("ethnicity"),
    "religion": N_("religion"),
    "human_rights": N_("human rights"),
    "state_secrets": N_("state secrets"),
}
LEVELS = {
    DecidingLevel.PRIME_MINISTER: N_("the Prime Minister"),
    DecidingLevel.COMPETENT_PERSON: N_("another competent person (e.g. the provincial chairman)"),
}
MINISTERIAL = N_("foreign ministers or heads of foreign delegations take part")
NONE_APPLIES = N_("no minister or head of a foreign delegation, and no sensitive topic")
AT_RISK_DAYS = 7  # a draft whose latest day for submission is this close is flagged


@dataclass(frozen=True)
class Suggestion:
    level: DecidingLevel
    reasons: tuple[str, ...]  # N_ texts: why


def suggest(ministerial: bool, topics: Iterable[str]) -> Suggestion:
    reasons = ([MINISTERIAL] if ministerial else []) + [TOPICS[t] for t in topics if t in TOPICS]
    if reasons:
        return Suggestion(DecidingLevel.PRIME_MINISTER, tuple(reasons))
    return Suggestion(DecidingLevel.COMPETENT_PERSON, (NONE_APPLIES,))


def suggestion_for(application: PermitApplication) -> Suggestion:
    return suggest(application.ministerial_participants, application.sensitive_topics or [])


def level_of(application: PermitApplication) -> DecidingLevel:
    """The confirmed or chosen level, else the suggested one."""
    if application.deciding_level:
        return DecidingLevel(application.deciding_level)
    return suggestion_for(application).level


def lead_days(rules: PermitRules, level: DecidingLevel) -> int:
    if level == DecidingLevel.PRIME_MINISTER:
        return rules.lead_days_prime_minister
    return rules.lead_days_competent_person


@dataclass(frozen=True)
class Lead:
    level: DecidingLevel
    lead_days: int
    latest_on: dt.date  # the last day the application may reach the authority
    days_before_start: int  # from the receipt (or today, before it) to the first day
    missed: bool

    @classmethod
    def of(cls, level: DecidingLevel, days: int, starts_on: dt.date, received: dt.date) -> Lead:
        before = (starts_on - received).days
        return cls(level, days, starts_on - dt.timedelta(days=days), before, before < days)


def confirm_level(
    application: PermitApplication,
    rules: PermitRules,
    user_id: int | None,
    received: dt.date,
    now: dt.datetime,
    *,
    late: bool,
) -> Lead:
    """At a (re)submission: check the lead time of the application's level and record the
    level as confirmed by the submitter; a missed lead time needs ``late``."""
    level = level_of(application)
    lead = Lead.of(level, lead_days(rules, level), application.starts_on, received)
    if lead.missed and not late:
        template = (
            N_(
                "the application would reach the authority %(days)s days before the conference,"
                " but one the Prime Minister decides on needs at least %(lead)s days (Decision"
                " 06/2020/QĐ-TTg): confirm that you submit it late, or move the conference"
            )
            if level == DecidingLevel.PRIME_MINISTER
            else N_(
                "the application would reach the authority %(days)s days before the conference,"
                " but one a competent person decides on needs at least %(lead)s days (Decision"
                " 06/2020/QĐ-TTg): confirm that you submit it late, or move the conference"
            )
        )
        raise InvalidInput(
            template,
            code="lead_time_missed",
            params={"days": str(lead.days_before_start), "lead": str(lead.lead_days)},
        )
    application.deciding_level = level.value
    application.level_confirmed_by_id = user_id
    application.level_confirmed_at = now
    application.lead_days = lead.lead_days
    application.submitted_late = lead.missed
    return lead
