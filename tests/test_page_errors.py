"""Bad input sent through the real pages is refused in the reader's language: in Vietnamese and
in Lao the refusal holds no English sentence, no field name, no error code and no HTTP status
(issue 17, "Errors are not in the user's language and do not say what to do").

Each case is sent three times, reading English, Vietnamese and Lao. In English the refusal
must contain three consecutive words of one of the catalog's English messages (so that the case
really reaches a translated refusal, and the check below can see English); in Vietnamese and
Lao it must contain none, and be written in that language's script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from babel.messages.pofile import read_po

from server.i18n import TRANSLATIONS_DIR
from tests.conferences.test_pages_scheduling import VN, new_conference, post
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
Case = Callable[[Client], Awaitable[str]]

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
#: Field names and codes look like ``ends_at``, ``bad_range``, ``time_zone``.
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b")
STATUS = re.compile(r"\b(HTTP|[45]\d\d)\b")
SCRIPT = {
    "vi": re.compile(r"[ăâđêôơưàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ]"),
    "lo": re.compile(r"[\u0e80-\u0eff]"),
}
REFUSAL = (
    re.compile(r'<p class="error-detail">(.*?)</p>', re.S),  # the error page
    re.compile(r'<div class="alert" role="alert" id="\w+-problem">(.*?)</div>', re.S),  # editor
    re.compile(r'<p class="alert" role="alert">(.*?)</p>', re.S),  # the permit form
)


@cache
def english_runs() -> frozenset[tuple[str, str, str]]:
    """Every three consecutive lower-case words of the catalog's English messages."""
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        catalog = read_po(handle)
    runs: set[tuple[str, str, str]] = set()
    for message in catalog:
        for piece in PLACEHOLDER.split(str(message.id or "")):
            words = WORD.findall(piece)
            runs.update(zip(words, words[1:], words[2:], strict=False))
    return frozenset(runs)


def english_in(text: str) -> list[str]:
    """The runs of three English words of the catalog found in ``text``, in order."""
    found = []
    for chunk in re.split(r"[^A-Za-z' ]+", text):  # words next to each other, not across "("
        words = [w for w in chunk.split(" ") if w]
        for run in zip(words, words[1:], words[2:], strict=False):
            if all(WORD.fullmatch(w) for w in run) and run in english_runs():
                found.append(" ".join(run))
    return found


def refusal(page: str) -> str:
    for pattern in REFUSAL:
        if found := pattern.search(page):
            return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
    raise AssertionError(f"no refusal shown in {page[:2000]}")


async def reading(client: Client, token: str, locale: str) -> None:
    """The signed-in person reads ``locale`` from now on."""
    changed = await client.patch(
        "/api/me", json={"locale": locale}, headers={"X-CSRF-Token": token}
    )
    assert changed.status == 200


async def refused_conference(client: Client, **fields: str) -> str:
    csrf = await csrf_of_page(client, "/conferences/new")
    form = {
        "title": "Aid review",
        "kind": "online",
        "time_zone": VN,
        "starts_at": "2027-10-20T08:00",
        "ends_at": "2027-10-20T17:00",
        **fields,
    }
    status, _, page = await post(client, "/conferences/new", csrf, **form)
    assert status == 422, page
    return page


async def empty_title(client: Client) -> str:
    return await refused_conference(client, title="")


async def ends_before_it_starts(client: Client) -> str:
    return await refused_conference(client, ends_at="2027-10-20T07:00")


async def a_time_zone_that_does_not_exist(client: Client) -> str:
    return await refused_conference(client, time_zone="Mars/Olympus_Mons")


async def refused_session(client: Client, **fields: str) -> str:
    cid, csrf = await new_conference(client)  # 19 October to 6 November 2026
    form = {
        "title": "Weekly call",
        "starts_at": "2026-10-19T10:00",
        "ends_at": "2026-10-19T11:00",
        "time_zone": VN,
        "repeat_weekly": "on",
        **fields,
    }
    status, _, page = await post(client, f"/conferences/{cid}/sessions", csrf, **form)
    assert status == 422, page
    return page


async def a_series_without_an_end(client: Client) -> str:
    return await refused_session(client)


async def a_series_past_the_conference(client: Client) -> str:
    return await refused_session(client, repeat_until="2027-03-01")


async def refused_permit(client: Client, **fields: str) -> str:
    cid, csrf = await new_conference(client)
    form = {
        "purpose": "Ký kết",
        "format": "online",
        "starts_on": "2026-10-19",
        "ends_on": "2026-11-06",
        "content": "Ký kết",
        "funding_source": "Ngân sách tỉnh",
        "funding_amount": "50000000",
        "funding_currency": "VND",
        "then": "draft",
        **fields,
    }
    status, _, page = await post(client, f"/conferences/{cid}/permit", csrf, **form)
    assert status == 422, page
    return page


async def a_permit_with_a_bad_country_and_amount(client: Client) -> str:
    return await refused_permit(
        client, funding_amount="nhiều", country_0="XX", organisation_0="Champasak", number_0="5"
    )


async def a_permit_that_ends_before_it_starts(client: Client) -> str:
    return await refused_permit(client, starts_on="2026-11-06", ends_on="2026-10-19")


async def a_permit_in_a_currency_that_does_not_exist(client: Client) -> str:
    return await refused_permit(client, funding_currency="QQQ")


async def got(client: Client, path: str, status: int) -> str:
    answer = await client.get(path)
    page = await answer.text()
    assert answer.status == status, (path, answer.status, page[:2000])
    return page


async def a_report_that_ends_before_it_starts(client: Client) -> str:
    return await got(client, "/permits/report?period=month&from=2027-02-01&to=2027-01-01", 422)


async def a_quality_window_that_ends_before_it_starts(client: Client) -> str:
    path = "/conferences/1/quality?from=2021-10-20T10:00:00Z&to=2021-10-20T09:00:00Z"
    return await got(client, path, 422)


async def a_conference_number_too_large(client: Client) -> str:
    return await got(client, "/conferences/99999999999", 404)


async def a_conference_that_is_not_there(client: Client) -> str:
    return await got(client, "/conferences/999999", 404)


async def a_search_for_a_year_that_is_not_a_number(client: Client) -> str:
    return await got(client, "/search?q=hop+tac&year=2O21", 422)


async def a_month_that_does_not_exist(client: Client) -> str:
    return await got(client, "/calendar?month=2027-13", 422)


CASES: tuple[Case, ...] = (
    empty_title,
    ends_before_it_starts,
    a_time_zone_that_does_not_exist,
    a_series_without_an_end,
    a_series_past_the_conference,
    a_permit_with_a_bad_country_and_amount,
    a_permit_that_ends_before_it_starts,
    a_permit_in_a_currency_that_does_not_exist,
    a_report_that_ends_before_it_starts,
    a_quality_window_that_ends_before_it_starts,
    a_conference_number_too_large,
    a_conference_that_is_not_there,
    a_month_that_does_not_exist,
    a_search_for_a_year_that_is_not_a_number,
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
async def test_a_refusal_on_a_page_is_in_the_reader_s_language(client: Client, case: Case) -> None:
    token = await sign_in(client, "organiser@concord.example")
    await reading(client, token, "en")
    english = refusal(await case(client))
    assert english_in(english), f"the English refusal matches no catalog message: {english}"
    for locale in ("vi", "lo"):
        await reading(client, token, locale)
        said = refusal(await case(client))
        assert said != english and SCRIPT[locale].search(said), (locale, said)
        assert not english_in(said), (locale, said, english_in(said))
        assert not IDENTIFIER.search(said), (locale, said)
        assert not STATUS.search(said) and "(body)" not in said, (locale, said)


def test_the_check_sees_english_and_lets_values_through() -> None:
    assert english_in("Kết thúc: the conference must end after it starts") == [
        "the conference must",
        "conference must end",
        "must end after",
        "end after it",
        "after it starts",
    ]
    assert not english_in("'Mars/Olympus_Mons' không phải là múi giờ IANA (ví dụ Asia/Ho_Chi_Minh)")
    assert not english_in("Quang Ngai hall")
