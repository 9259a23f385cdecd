"""Numbers typed into forms, read the way the person's language writes them.

A Vietnamese organiser writes fifty million as "50.000.000" and a half as "0,5"; an English
one writes "50,000,000" and "0.5"; CLDR writes Lao like Vietnamese. Forms are read with
Babel's CLDR rules for the page's language (``parse_decimal``, strict about where group
separators stand, so "1.5" in Vietnamese is not read as fifteen). What that refuses but is a
plain machine number ("1.5", "50000000.5", as scripts and autofill send) is read as one. What
neither reading understands is passed on unchanged, for the form's validation to refuse.
"""

from __future__ import annotations

import re
from decimal import InvalidOperation

from babel.core import Locale
from babel.numbers import NumberFormatError, parse_decimal

_PLAIN = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def read_amount(text: str, locale: str) -> str:
    """``text`` as a plain decimal string ("50000000"), or unchanged when it is no number."""
    typed = _SPACES.sub("", text)
    if not typed:
        return text.strip()
    try:
        value = parse_decimal(typed, locale=Locale.parse(locale), strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        if _PLAIN.match(typed):
            return typed
        return text.strip()
    if not value.is_finite():
        return text.strip()
    return format(value, "f")
