"""Refusals with values in them ("%(language)s is listed twice") come in the reader's language
on the pages, filled with the values, while the JSON API keeps its English message (issue 17:
no English error text on the Vietnamese and Lao pages)."""

from __future__ import annotations

import re

import aiohttp

from tests.conferences.test_pages_scheduling import VN, Client, add_site, new_conference, post
from tests.conftest import sign_in

ENGLISH = re.compile(r"\b(is|the|this|already|listed|twice|before|after|conference)\b")


def alert(page: str) -> str:
    found = re.search(r'<div class="alert" role="alert" id="\w+-problem">(.*?)</div>', page, re.S)
    assert found, "no refusal shown"
    return re.sub(r"<[^>]+>", "", found.group(1))


async def test_refusals_with_values_are_told_in_vietnamese_and_in_english_to_the_api(
    client: Client,
) -> None:
    token = await sign_in(client, "organiser@concord.example")  # reads Vietnamese
    cid, csrf = await new_conference(
        client, starts_at="2027-03-01T08:00", ends_at="2027-03-02T17:00"
    )
    await add_site(client, cid, csrf, "Quang Ngai hall", VN)

    _, _, twice = await post(
        client,
        f"/conferences/{cid}/edit",
        csrf,
        title="Twice",
        time_zone=VN,
        starts_at="2027-03-01T08:00",
        ends_at="2027-03-02T17:00",
        language_rows="2",
        language_0="vi",
        language_1="vi",
    )
    _, _, taken = await post(
        client, f"/conferences/{cid}/sites", csrf, name="Quang Ngai hall", time_zone=VN
    )
    _, _, early = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Too early",
        starts_at="2027-02-28T09:00",
        ends_at="2027-02-28T10:00",
        time_zone=VN,
    )
    said = {
        "vi được liệt kê hai lần": alert(twice),
        "đã có điểm cầu tên “Quang Ngai hall”": alert(taken),
        "2027-02-28 09:00 Asia/Ho_Chi_Minh là trước hội nghị": alert(early),
    }
    for words, shown in said.items():
        assert words in shown, shown
        assert not ENGLISH.search(shown), shown

    # The API says the same in English, with the values, and names the template and them.
    api = await client.post(
        f"/api/conferences/{cid}/sites",
        json={"name": "Quang Ngai hall", "time_zone": VN},
        headers={"X-CSRF-Token": token},
    )
    problem = await api.json()
    assert api.status == 422, problem
    assert problem["detail"] == "name: this conference already has a site named “Quang Ngai hall”"
    # ...and, for the page's script, in the reader's words.
    assert "đã có điểm cầu tên “Quang Ngai hall”" in problem["message"]
    [error] = problem["errors"]
    assert error["params"] == {"name": "Quang Ngai hall"} and "%(name)s" in error["template"]


async def test_a_conference_that_is_not_there_is_told_in_the_reader_s_language(
    client: Client,
) -> None:
    token = await sign_in(client, "organiser@concord.example")  # reads Vietnamese
    page = await client.get("/conferences/999999")
    assert page.status == 404
    assert "không có hội nghị số 999999" in await page.text()
    changed = await client.patch("/api/me", json={"locale": "lo"}, headers={"X-CSRF-Token": token})
    assert changed.status == 200
    lao = await (await client.get("/conferences/999999")).text()
    assert "ບໍ່ມີກອງປະຊຸມເລກທີ 999999" in lao and "there is no conference" not in lao
    api = await client.get("/api/conferences/999999")
    assert (await api.json())["detail"] == "there is no conference 999999"


async def test_a_refused_attachment_is_told_in_vietnamese(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")  # reads Vietnamese
    cid, csrf = await new_conference(
        client, starts_at="2027-03-01T08:00", ends_at="2027-03-02T17:00"
    )
    status, location, page = await post(
        client,
        f"/conferences/{cid}/permit",
        csrf,
        purpose="Ký kết",
        format="online",
        starts_on="2027-03-01",
        ends_on="2027-03-02",
        content="Ký kết",
        funding_source="Ngân sách tỉnh",
        funding_amount="50.000.000",
        funding_currency="VND",
        then="draft",
    )
    assert status == 303, page
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", b"", filename="cong-van.pdf", content_type="application/pdf")
    refused = await client.post(f"{location}/attachments", data=form)
    assert refused.status == 422
    html = await refused.text()
    assert "cong-van.pdf trống" in html and "is empty" not in html
