"""Amounts in a currency's minor units (ISO 4217 exponent, from Babel) and their display."""

from __future__ import annotations

from decimal import Decimal

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

from server.errors import InvalidInput
from server.i18n_strings import N_


def to_minor(amount: Decimal, currency: str) -> int:
    """``amount`` in ``currency``'s minor units; refused if it has more decimals than those."""
    if currency not in list_currencies():
        raise InvalidInput(
            N_("%(currency)s is not an ISO 4217 currency code"),
            code="bad_currency",
            params={"currency": currency},
        )
    digits = get_currency_precision(currency)
    minor = amount * (10**digits)
    if minor != minor.to_integral_value():
        raise InvalidInput(
            N_("%(currency)s amounts have %(digits)s decimal places; %(amount)s has more"),
            code="bad_amount",
            params={"currency": currency, "digits": str(digits), "amount": str(amount)},
        )
    if abs(minor) >= 2**63:
        raise InvalidInput(
            N_("%(amount)s %(currency)s is too large an amount"),
            code="bad_amount",
            params={"amount": str(amount), "currency": currency},
        )
    return int(minor)


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def show(minor: int | None, currency: str | None, locale: str) -> str:
    """As the reader's locale writes it: "25.000.000.000 ₫" in Vietnamese."""
    if minor is None or currency is None:
        return ""
    return format_currency(to_major(minor, currency), currency, locale=Locale.parse(locale))
