"""Numbers typed into forms are read as the page's language writes them (issue 17)."""

from __future__ import annotations

import pytest

from server.locale_numbers import read_amount


@pytest.mark.parametrize(
    ("typed", "locale", "read"),
    [
        ("50.000.000", "vi", "50000000"),
        ("50.000.000,50", "vi", "50000000.50"),
        ("0,5", "vi", "0.5"),
        ("50 000 000", "vi", "50000000"),
        ("50.000.000", "lo", "50000000"),
        ("50,000,000", "en", "50000000"),
        ("50000000.5", "vi", "50000000.5"),  # a machine number, in any language
        ("1.5", "vi", "1.5"),  # not fifteen: "." does not group one digit
        ("", "vi", ""),
    ],
)
def test_an_amount_is_read_in_the_pages_language(typed: str, locale: str, read: str) -> None:
    assert read_amount(typed, locale) == read


@pytest.mark.parametrize("typed", ["abc", "50,000,000", "NaN", "1.2.3,4,5"])
def test_what_is_no_number_there_is_left_for_validation(typed: str) -> None:
    assert read_amount(typed, "vi") == typed
