"""Jinja2 set-up: translations, the navigation by role, and time-zone aware date filters."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.support import NullTranslations
from babel.units import format_unit

from server.csrf import csrf_token
from server.error_words import describe, explain, field_label
from server.errors import DomainError
from server.i18n import LOCALE_NAMES, LOCALES
from server.ical.wording import repeats
from server.identity import ANONYMOUS, Identity
from server.keys import IDENTITY, LOCALE, TRANSLATIONS
from server.models import Role
from server.time_zones import canonical, zone_label


@jinja2.pass_context
def _gettext(context: Any, message: str, **params: Any) -> str:
    translations: NullTranslations = context["translations"]
    text = translations.gettext(message)
    return text % params if params else text


@jinja2.pass_context
def _pgettext(context: Any, where: str, message: str, **params: Any) -> str:
    """``message`` as said in ``where`` (gettext's message context): one English word that
    two places mean differently ("Remove" a row, "Remove" a site from the room) is two
    entries in the catalogues, each translated for its place (docs/glossary.md)."""
    translations: NullTranslations = context["translations"]
    text = str(translations.pgettext(where, message))
    return text % params if params else text


@jinja2.pass_context
def _in_zone(
    context: Any, value: dt.datetime | None, zone: str | None = None, pattern: str | None = None
) -> str:
    """A UTC timestamp shown in ``zone`` (or the viewer's zone) in the viewer's language.

    Without a pattern: date and minutes in the locale's own order (no seconds).
    """
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone or context.get("viewer_zone", "UTC")))
    if pattern is None:
        day = format_date(local, "medium", locale=context["locale"])
        return f"{day}, {local:%H:%M}"
    return format_datetime(local, pattern, locale=context["locale"])


@jinja2.pass_context
def _explain(context: Any, error: DomainError) -> str:
    """A refusal in the reader's words (``server.error_words``)."""
    translations: NullTranslations = context["translations"]
    return explain(error, translations.gettext)


@jinja2.pass_context
def _describe_error(context: Any, error: dict[str, Any]) -> str:
    translations: NullTranslations = context["translations"]
    return describe(error, translations.gettext)


@jinja2.pass_context
def _field_label(context: Any, name: str) -> str:
    translations: NullTranslations = context["translations"]
    return field_label(name, translations.gettext)


@jinja2.pass_context
def _day(context: Any, value: dt.date | None) -> str:
    """A calendar date in the viewer's language ("7 thg 12, 2026"), not ISO."""
    return "" if value is None else format_date(value, "medium", locale=context["locale"])


@jinja2.pass_context
def _zone_label(context: Any, zone: str) -> str:
    """A zone as people read it: "(UTC+07:00) Vientiane · Laos Time" in the viewer's language."""
    return zone_label(zone, context["locale"], dt.datetime.now(dt.UTC))


@jinja2.pass_context
def _size(context: Any, value: int | None) -> str:
    """A file size with its unit in the reader's language: "1,2 MB", "340 kB"."""
    if value is None:
        return ""
    locale = context["locale"]
    if value < 1000:
        return format_unit(value, "digital-byte", length="short", locale=locale)
    if value < 1_000_000:
        return format_unit(round(value / 1000), "digital-kilobyte", length="short", locale=locale)
    megabytes = round(value / 1_000_000, 1)
    return format_unit(megabytes, "digital-megabyte", length="short", locale=locale)


def _from_iso(value: str | dt.datetime | None) -> dt.datetime | None:
    """An ISO 8601 timestamp (as the JSON shapes carry them) as a datetime, for ``in_zone``."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


@jinja2.pass_context
def _span(
    context: Any, start: dt.datetime | None, end: dt.datetime | None, zone: str | None = None
) -> str:
    """A time span in one style: "7 Dec 2026, 08:00–17:00" within a day, else
    "7 Dec 2026, 08:00 – 9 Dec 2026, 17:00" (the locale's date, a 24-hour clock)."""
    if start is None or end is None:
        return _in_zone(context, start or end, zone)
    where = ZoneInfo(zone or context.get("viewer_zone", "UTC"))
    first, last = start.astimezone(where), end.astimezone(where)
    if first.date() == last.date():
        return f"{_in_zone(context, start, zone)}–{last:%H:%M}"
    return f"{_in_zone(context, start, zone)} – {_in_zone(context, end, zone)}"


@jinja2.pass_context
def _repeats(context: Any, rule: str, zone: str = "UTC") -> str:
    """A recurrence rule in the viewer's words (``server.ical.wording``)."""
    translations: NullTranslations = context["translations"]
    return repeats(rule, translations.gettext, context["locale"], zone)


#: Offered by the conference editor's language fields (any BCP 47 code is accepted).
COMMON_LANGUAGES = (
    "vi", "lo", "en", "fr", "th", "km", "my", "zh", "ja", "ko", "id", "ms", "fil", "ru", "es",
    "pt", "de", "ar", "hi",
)  # fmt: skip


@jinja2.pass_context
def _language_names(context: Any, codes: list[str]) -> dict[str, dict[str, str | None]]:
    """{code: {"name": in the viewer's language, "native": in itself}} from CLDR (Babel):
    browsers lack names for some languages (Chromium has no Lao data)."""
    viewer = Locale.parse(context["locale"])
    names: dict[str, dict[str, str | None]] = {}
    for code in codes:
        try:
            own = Locale.parse(code.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            names[code] = {"name": viewer.languages.get(code, code), "native": None}
            continue
        names[code] = {
            "name": own.get_display_name(viewer) or code,
            "native": own.get_display_name(own),
        }
    return names


def setup_environment(env: jinja2.Environment) -> None:
    env.globals["_"] = _gettext
    env.globals["pgettext"] = _pgettext
    env.globals["language_names"] = _language_names
    env.globals["COMMON_LANGUAGES"] = COMMON_LANGUAGES
    env.globals["canonical_zone"] = canonical
    env.globals["explain"] = _explain
    env.globals["describe_error"] = _describe_error
    env.globals["field_label"] = _field_label
    env.filters["zone_label"] = _zone_label
    env.filters["day"] = _day
    env.filters["in_zone"] = _in_zone
    env.filters["span"] = _span
    env.filters["from_iso"] = _from_iso
    env.filters["size"] = _size
    env.filters["repeats"] = _repeats


def navigation(who: Identity) -> list[tuple[str, str]]:
    """(path, label) pairs for the top bar; labels are translated in the template."""
    if not who.signed_in:
        return []
    items = [("/", "Conferences")]
    if who.user_id is not None:
        items.append(("/account", "My account"))
    if who.roles & {Role.ORGANISER, Role.APPROVER, Role.ADMIN}:
        items.append(("/permits", "Permits"))
    if Role.ADMIN in who.roles:
        items.append(("/admin/users", "Users"))
    return items


def page_context(request: web.Request) -> dict[str, Any]:
    """What every page's template may use (rendered also for errors raised before a handler)."""
    who = request.get(IDENTITY, ANONYMOUS)
    return {
        "who": who,
        "translations": request.get(TRANSLATIONS) or NullTranslations(),
        "locale": request.get(LOCALE, "en"),
        "locales": [(code, LOCALE_NAMES[code]) for code in LOCALES],
        "csrf_token": csrf_token(request),
        "nav": navigation(who),
        "viewer_zone": who.time_zone,
        "zone_proposal": zone_proposal(request, who),
        "path": request.path_qs,
        "request_query": request.query,
    }


BROWSER_ZONE_COOKIE = "concord_browser_zone"  # set by static/js/browser_zone.js


def browser_zone(request: web.Request) -> str | None:
    """The zone the browser reported (its cookie), if it names a real zone."""
    return canonical(unquote(request.cookies.get(BROWSER_ZONE_COOKIE, "")))


def likely_zone(request: web.Request, fallback: str) -> str:
    """The zone the viewer most likely works in: the one they chose, else their browser's,
    else ``fallback``; new forms start from it."""
    who = request.get(IDENTITY, ANONYMOUS)
    if who.user_id is not None and who.time_zone_chosen:
        return str(who.time_zone)
    return browser_zone(request) or fallback


def zone_proposal(request: web.Request, who: Identity) -> str | None:
    """The browser's time zone, for a user who has not chosen theirs and is shown another."""
    if who.user_id is None or who.time_zone_chosen:
        return None
    browser = browser_zone(request)
    return browser if browser is not None and browser != who.time_zone else None
