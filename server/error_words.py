"""Refusals told to people: each field named in words, what is wrong and what to do, in their
language; never codes, field names or HTTP statuses (those stay in the JSON API).

A ``DomainError`` carries, besides its English ``message`` (for the API), its validation
``errors``: pydantic's (``field``, ``type``, ``ctx``) or an operation's own (``field``,
``message``). ``explain`` turns them into one sentence per field for a page:
"End: the conference must end after it starts", "Title: this must not be empty",
"Amount: write a number". Operations mark their messages with ``N_`` so that they are
translated; pydantic's are replaced by the sentences below, chosen by error type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from server.errors import DomainError
from server.i18n_strings import N_

Translate = Callable[[str], str]

FIELD_LABELS: Mapping[str, str] = {
    "title": N_("Title"),
    "description": N_("Description"),
    "starts_at": N_("Start"),
    "ends_at": N_("End"),
    "starts_on": N_("First day"),
    "ends_on": N_("Last day"),
    "time_zone": N_("Time zone"),
    "kind": N_("Format"),
    "format": N_("Format"),
    "name": N_("Name"),
    "location": N_("Place"),
    "contact_name": N_("Contact name"),
    "contact_email": N_("Contact e-mail"),
    "email": N_("E-mail"),
    "password": N_("Password"),
    "display_name": N_("Name"),
    "role": N_("Role"),
    "roles": N_("Roles"),
    "languages": N_("Languages"),
    "language": N_("Language"),
    "code": N_("Language code"),
    "site_id": N_("Site"),
    "site_ids": N_("Sites"),
    "user_id": N_("User account"),
    "rrule": N_("Repeats"),
    "shift_starts_at": N_("Shift start"),
    "shift_ends_at": N_("Shift end"),
    "position": N_("Title or position"),
    "country": N_("Country"),
    "organisation": N_("Organisation"),
    "precedence": N_("Order"),
    "number": N_("Number of people"),
    "purpose": N_("Purpose"),
    "content": N_("Programme"),
    "funding_source": N_("Source of funding"),
    "funding_amount": N_("Amount"),
    "funding_currency": N_("Currency"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "parties": N_("Parties"),
    "label": N_("For whom"),
    "valid_hours": N_("Valid for (hours)"),
    "from": N_("From"),
    "to": N_("To"),
    "month": N_("Month"),
    "week": N_("Week"),
    "repeat_until": N_("Repeat until"),
    "exdates": N_("Excluded dates"),
    "interpreter_name": N_("Interpreter's name"),
    "venue_id": N_("Venue"),
    "session_id": N_("Session"),
    "occurrence": N_("Occurrence"),
    "status": N_("Status"),
    "reason": N_("Reason"),
    "delegations": N_("Delegations"),
}

#: What to say for pydantic's error types (its own English messages are not shown to people).
BY_TYPE: Mapping[str, str] = {
    "missing": N_("this is required"),
    "string_too_long": N_("write at most %(max_length)s characters"),
    "too_long": N_("give at most %(max_length)s"),
    "too_short": N_("give at least %(min_length)s"),
    "greater_than_equal": N_("give %(ge)s or more"),
    "greater_than": N_("give more than %(gt)s"),
    "less_than_equal": N_("give %(le)s or less"),
    "less_than": N_("give less than %(lt)s"),
    "int_parsing": N_("write a whole number"),
    "int_type": N_("write a whole number"),
    "int_from_float": N_("write a whole number"),
    "float_parsing": N_("write a number"),
    "decimal_parsing": N_("write a number"),
    "decimal_type": N_("write a number"),
    "decimal_max_places": N_("write at most %(decimal_places)s decimals"),
    "decimal_max_digits": N_("write at most %(max_digits)s digits"),
    "date_parsing": N_("write a date"),
    "date_from_datetime_parsing": N_("write a date"),
    "date_type": N_("write a date"),
    "datetime_parsing": N_("write a date and a time"),
    "datetime_from_date_parsing": N_("write a date and a time"),
    "datetime_type": N_("write a date and a time"),
    "bool_parsing": N_("choose yes or no"),
    "enum": N_("choose one of the options"),
    "literal_error": N_("choose one of the options"),
    "string_pattern_mismatch": N_("this is not in the expected form"),
    "extra_forbidden": N_("this is not part of the form"),
    "string_type": N_("write some text"),
    "list_type": N_("choose from the list"),
}
EMPTY = N_("this must not be empty")
SHORT = N_("write at least %(min_length)s characters")
ROW = N_("%(field)s (row %(row)s)")
VALUE_ERROR_PREFIX = "Value error, "
WHOLE_FORM = "(body)"  # server.web.validation_errors: a model validator's error has no field


def _is_index(part: str) -> bool:
    """A list index in a field's path ("members.1.role"); not "²", which is a digit too."""
    return part.isascii() and part.isdigit()


def field_label(field: str, translate: Translate) -> str:
    """ "ends_at" → "End"; "members.1.role" → "Role (row 2)"; unknown names stay as they are
    with underscores as spaces."""
    parts = field.split(".")
    names = [p for p in parts if not _is_index(p)]
    rows = [int(p) for p in parts if _is_index(p)]
    name = names[-1] if names else field
    known = FIELD_LABELS.get(name)
    label = translate(known) if known else name.replace("_", " ")
    if rows:
        return translate(ROW) % {"field": label, "row": rows[-1] + 1}
    return label


def describe(error: Mapping[str, Any], translate: Translate) -> str:
    """What is wrong with one field, in words (see the module's docstring)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return translate(EMPTY) if minimum == 1 else translate(SHORT) % {"min_length": minimum}
    if kind in BY_TYPE:
        try:
            return translate(BY_TYPE[kind]) % ctx
        except (KeyError, TypeError, ValueError):
            return translate(BY_TYPE[kind])
    if "template" in ctx:  # a validator's refusal (server.fields.refused_value)
        values = {k: v for k, v in ctx.items() if k != "template"}
        return translate(str(ctx["template"])) % values
    params = error.get("params")
    if isinstance(params, Mapping) and "template" in error:
        return translate(str(error["template"])) % params
    message = str(error.get("message", ""))
    if message.startswith(VALUE_ERROR_PREFIX):
        message = message[len(VALUE_ERROR_PREFIX) :]
    return translate(message)


def explain(error: DomainError, translate: Translate) -> str:
    """The refusal for a page: per field "Label: what is wrong", else the message itself."""
    fields = [e for e in error.errors if isinstance(e, Mapping) and e.get("field")]
    if not fields:
        return (
            translate(error.template) % error.params if error.params else translate(error.message)
        )
    return "; ".join(_said(e, translate) for e in fields)


def _said(error: Mapping[str, Any], translate: Translate) -> str:
    """ "Label: what is wrong"; the field in words is the error's own ``label`` (N_-marked) if
    it has one, and a check of the whole form (pydantic's "(body)") names none."""
    label = error.get("label")
    if error["field"] == WHOLE_FORM:
        return describe(error, translate)
    named = (
        translate(label) if isinstance(label, str) else field_label(str(error["field"]), translate)
    )
    return f"{named}: {describe(error, translate)}"
