"""The world's countries by ISO 3166 code, from CLDR (Babel): what a delegation or a foreign
participant in a permit application comes from."""

from __future__ import annotations

from babel import Locale

# Babel's territories less the numeric regions and the non-countries (EU, UN, unknown...).
NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "ZZ"})
COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
)
