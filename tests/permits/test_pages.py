"""The pages: apply with the form, follow the application, decide from the queue."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from server.db import Database
from server.models import User
from tests.conftest import sign_in
from tests.permits.conftest import Client

FORM = {
    "purpose": "Sign the memorandum",
    "format": "online",
    "starts_on": "2027-10-20",
    "ends_on": "2027-10-21",
    "content": "Speeches\nSigning",
    "funding_source": "Provincial budget",
    "funding_amount": "45000000",
    "funding_currency": "vnd",
    "country_0": "LA",
    "organisation_0": "Champasak DOFA",
    "number_0": "12",
    "country_1": "",
    "organisation_1": "",
    "number_1": "",
}


async def post(client: Client, path: str, csrf: str, **fields: Any) -> Any:
    return await client.post(path, data={"csrf_token": csrf, **fields}, allow_redirects=False)


async def test_apply_follow_and_decide_in_the_browser(
    client: Client, other_client: Client, demo: Database
) -> None:
    async with demo.session() as db, db.begin():  # read the pages in English
        await db.execute(update(User).values(locale="en"))
    csrf = await sign_in(client, "organiser@concord.example")
    conference = await (await client.get("/conferences/1")).text()
    assert 'href="/conferences/1/permit"' in conference
    page = await client.get("/conferences/1/permit")
    assert page.status == 200
    html = await page.text()
    assert 'name="country_0"' in html and "Champasak" in html  # from the Lao delegation

    # A refused form comes back with the problem named and the typed values kept.
    refused = await post(client, "/conferences/1/permit", csrf, **{**FORM, "ends_on": "2027-10-01"})
    assert refused.status == 422
    text = await refused.text()
    assert "before it starts" in text and "Champasak DOFA" in text

    made = await post(client, "/conferences/1/permit", csrf, **FORM)
    assert made.status == 303
    location = made.headers["Location"]
    assert re.fullmatch(r"/permits/\d+", location)
    draft = await (await client.get(location)).text()
    assert "Submit the application" in draft and "Champasak DOFA" in draft

    # Edit: add a second row of participants.
    edited = await post(
        client,
        location,
        csrf,
        **{**FORM, "country_1": "AU", "organisation_1": "DFAT", "number_1": "2"},
    )
    assert edited.status == 303
    submitted = await post(client, location + "/submit", csrf, comment="")
    assert submitted.status == 303
    shown = await (await client.get(location)).text()
    assert "15 working days left" in shown and "DFAT" in shown
    assert "Submit the application" not in shown

    approver_csrf = await sign_in(other_client, "approver@concord.example")
    queue = await (await other_client.get("/permits")).text()
    assert location in queue
    missing_reason = await post(
        other_client, location + "/decision", approver_csrf, outcome="reject", comment=""
    )
    assert missing_reason.status == 422
    assert "give the reasons" in await missing_reason.text()
    approved = await post(other_client, location + "/decision", approver_csrf, outcome="approve")
    assert approved.status == 303
    final = await (await client.get(location)).text()
    assert location + "/decision.pdf" in final and "on time" in final


async def test_amounts_are_read_as_the_pages_language_writes_them(
    client: Client, demo: Database
) -> None:
    """ "50.000.000" is fifty million in Vietnamese (and Lao, in CLDR); "1.5" there is not
    read as fifteen, and a comma-grouped amount is not read in Vietnamese."""
    csrf = await sign_in(client, "organiser@concord.example")  # the demo organiser reads vi
    made = await post(
        client, "/conferences/1/permit", csrf, **{**FORM, "funding_amount": "50.000.000"}
    )
    assert made.status == 303, await made.text()
    application = await (await client.get("/api" + made.headers["Location"])).json()
    assert application["funding_amount"] == "50000000.00"
    location = made.headers["Location"]
    for typed, stored in (("50.000.000,5", "50000000.50"), ("1.5", "1.50")):
        edited = await post(client, location, csrf, **{**FORM, "funding_amount": typed})
        assert edited.status == 303, (typed, await edited.text())
        shown = await (await client.get("/api" + location)).json()
        assert shown["funding_amount"] == stored, typed
    refused = await post(client, location, csrf, **{**FORM, "funding_amount": "50,000,000"})
    assert refused.status == 422
    shown = await (await client.get("/api" + location)).json()
    assert shown["funding_amount"] == "1.50"  # unchanged
