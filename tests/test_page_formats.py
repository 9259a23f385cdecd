"""The main pages in Vietnamese and Lao show dates and times one way, the reader's: no ISO
timestamps, no US month/day dates, no 12-hour clock (issue 17)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.db import Database
from tests.conftest import sign_in
from tests.main_pages import MAIN_PAGES

Client = TestClient[Any, Any]
PAGES = MAIN_PAGES
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
TWELVE_HOURS = re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\s?(AM|PM)\b")


class _Text(HTMLParser):
    """The text a reader sees: not scripts, styles, or what a form field holds."""

    HIDDEN = frozenset({"script", "style", "textarea", "template"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("locale", ["vi", "lo"])
async def test_no_iso_us_or_twelve_hour_times_on_the_main_pages(
    client: Client, demo: Database, locale: str
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    changed = await client.patch(
        "/api/me",
        json={"locale": locale, "time_zone": "Asia/Vientiane"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status == 200
    found: dict[str, list[str]] = {}
    for path in PAGES:
        answer = await client.get(path)
        assert answer.status == 200, (path, answer.status)
        text = visible(await answer.text())
        bad = [m.group(0) for rule in (ISO, US_DATE, TWELVE_HOURS) for m in rule.finditer(text)]
        if bad:
            found[path] = bad
    assert not found, found
