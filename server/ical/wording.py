"""A recurrence rule in words, in the reader's language: "every week on Tuesday, 12 times".

Used by the invitation letters and the editor's session list, which showed the rule's
RFC 5545 text. Weekday and date names come from CLDR (Babel); the phrases are gettext
messages. Rules beyond what the editor makes (BYSETPOS, several months...) keep a short
phrase and the rule's text after it, so nothing is hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names

from server.i18n_strings import N_
from server.ical.rrules import rule_of

Translate = Callable[[str], str]

_EVERY = {
    "DAILY": (N_("every day"), N_("every %(n)s days")),
    "WEEKLY": (N_("every week"), N_("every %(n)s weeks")),
    "MONTHLY": (N_("every month"), N_("every %(n)s months")),
    "YEARLY": (N_("every year"), N_("every %(n)s years")),
}


def repeats(rule_text: str, translate: Translate, locale: str, zone: str = "UTC") -> str:
    """``rule_text`` (a canonical RRULE) as a phrase in ``locale``; UNTIL shown in ``zone``."""
    try:
        rule = rule_of(rule_text)
    except ValueError:
        return rule_text
    one, many = _EVERY[rule.freq]
    text = translate(one) if rule.interval == 1 else translate(many) % {"n": rule.interval}
    if rule.weekdays and not rule.numbered:
        names = get_day_names("wide", locale=locale)
        days = ", ".join(names[d] for d in sorted(rule.weekdays))
        text = translate(N_("%(every)s on %(days)s")) % {"every": text, "days": days}
    if rule.count is not None:
        text = translate(N_("%(every)s, %(count)s times")) % {"every": text, "count": rule.count}
    if rule.until is not None:
        day = format_date(rule.until.astimezone(ZoneInfo(zone)).date(), "long", locale=locale)
        text = translate(N_("%(every)s, until %(date)s")) % {"every": text, "date": day}
    if rule.numbered or rule.monthdays or rule.months or rule.setpos:
        text = f"{text} ({rule_text})"
    return text
