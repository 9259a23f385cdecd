"""Recurrence rules in the reader's words, in English, Vietnamese and Lao."""

from __future__ import annotations

import pytest

from server.i18n import Catalogues
from server.ical.wording import repeats


def words(locale: str) -> object:
    return Catalogues().get(locale).gettext


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=WEEKLY;COUNT=12;BYDAY=TU", "every week on Tuesday, 12 times"),
        ("FREQ=DAILY;INTERVAL=3;COUNT=4", "every 3 days, 4 times"),
        (
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270630T160000Z;BYDAY=MO,TH",
            "every 2 weeks on Monday, Thursday, until June 30, 2027",
        ),
        ("FREQ=YEARLY", "every year"),
        # Beyond what the editor makes: a phrase, and the rule itself.
        (
            "FREQ=MONTHLY;COUNT=20;BYDAY=1TU",
            "every month, 20 times (FREQ=MONTHLY;COUNT=20;BYDAY=1TU)",
        ),
        ("not a rule", "not a rule"),
    ],
)
def test_rules_in_english(rule: str, expected: str) -> None:
    assert repeats(rule, lambda s: s, "en", "Europe/Paris") == expected


def test_until_is_the_local_date_of_the_reader_zone() -> None:
    rule = "FREQ=WEEKLY;UNTIL=20270630T230000Z;BYDAY=WE"
    assert repeats(rule, lambda s: s, "en", "Europe/Paris").endswith("until July 1, 2027")
    assert repeats(rule, lambda s: s, "en", "America/New_York").endswith("until June 30, 2027")


@pytest.mark.parametrize("locale", ["vi", "lo"])
def test_rules_in_vietnamese_and_lao(locale: str) -> None:
    text = repeats("FREQ=WEEKLY;COUNT=12;BYDAY=TU", words(locale), locale)  # type: ignore[arg-type]
    assert "12" in text
    for english in ("every", " on ", "times", "Tuesday"):
        assert english not in text, text
    assert ("Thứ Ba" if locale == "vi" else "ວັນອັງຄານ") in text
