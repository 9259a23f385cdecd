"""Input field types shared by request schemas, each with the OpenAPI description of the rule
the server enforces on it.

Some rules are checked by the operations rather than by pydantic (a time zone's 422 names the
field with its own code, ``bad_time_zone``); the type then only describes that rule, so that
the document is as strict as the server (issue 13: it was looser).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

#: What the server takes for an e-mail address: one ``@``, no spaces, a dot in the domain.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL = re.compile(EMAIL_PATTERN)
#: The years any date or time given to Concord may fall in: calendar arithmetic (a week's
#: expansion, a booking's margins, a report's months) stays far from datetime's limits of year
#: 1 and 9999, where it overflowed.
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: The largest amount of money taken (14 integer digits): in minor units (up to 4 decimals,
#: ISO 4217) it still fits a signed 64-bit column.
MAX_AMOUNT = Decimal("99999999999999")

TIME_ZONE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "An IANA time zone name, such as Asia/Vientiane",
    "enum": sorted(available_timezones()),
}

#: The number of a record named in a body (a site, a user, a session...): the same range as
#: a path's numbers, so that no lookup is ever asked for one its column cannot hold.
RecordId = Annotated[int, Field(ge=0, le=2**31 - 1)]
#: Marks a schema that ``server.openapi`` replaces with a reference to a shared component.
SHARED = "x-concord-shared"
#: An IANA time zone name (checked by the operations, which answer 422 ``bad_time_zone``).
TimeZone = Annotated[
    str, Field(max_length=64), WithJsonSchema({"type": "string", SHARED: "TimeZone"})
]

_EMAIL_SCHEMA = {"type": "string", "minLength": 3, "maxLength": 320, "pattern": EMAIL_PATTERN}
#: An e-mail address as an account's is written (the operations check it against ``EMAIL``
#: and answer 422 with their own code).
AccountEmail = Annotated[str, Field(min_length=3, max_length=320), WithJsonSchema(_EMAIL_SCHEMA)]
#: An e-mail address, or empty for none (checked the same way).
EmailOrEmpty = Annotated[
    str,
    Field(max_length=320),
    WithJsonSchema({"type": "string", "maxLength": 320, "pattern": f"^$|{EMAIL_PATTERN}"}),
]


def refused_value(template: str, **values: str) -> PydanticCustomError:
    """What a validator raises for a value it refuses: the English filled in (the API's
    ``msg``), with the ``N_`` template and its values in the error's context, so that a page
    says it in the reader's language (``server.error_words.describe``)."""
    # pydantic fills "{name}" from the context, key by key in order: the template first, so
    # that a value holding "{template}" is left as typed.
    english = re.sub(r"%\((\w+)\)s", r"{\1}", template)
    return PydanticCustomError("value_error", english, {"template": template, **values})


def amount_schema(decimals: int | None) -> dict[str, Any]:
    """A non-negative amount up to ``MAX_AMOUNT``, as a JSON number or a decimal string."""
    fraction = r"(\.[0-9]+)?" if decimals is None else rf"(\.[0-9]{{1,{decimals}}})?"
    number: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": int(MAX_AMOUNT)}
    places = "any number of decimals" if decimals is None else f"at most {decimals} decimals"
    return {
        "anyOf": [
            number,
            {"type": "string", "pattern": rf"^[0-9]{{1,14}}{fraction}$", "maxLength": 40},
        ],
        "description": f"0 to {MAX_AMOUNT}, {places} (a number or a decimal string)",
    }


#: An amount of money with at most two decimals.
Amount2 = Annotated[
    Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2), WithJsonSchema(amount_schema(2))
]
#: An amount of money in a currency's own minor units (the operation checks the decimals).
Amount = Annotated[
    Decimal, Field(ge=0, le=MAX_AMOUNT, max_digits=40), WithJsonSchema(amount_schema(None))
]


class Strict(BaseModel):
    """The base of request bodies: unknown fields are refused, text is stripped of surrounding
    whitespace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
