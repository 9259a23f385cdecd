"""The minutes' first draft puts each agenda title only in the language it is written in, so
that the Vietnamese column never starts with English or Lao text (issue 17)."""

from __future__ import annotations

from typing import Any

from server.minutes.build import draft_titles, written_in
from tests.minutes.conftest import API, MOU


def test_a_title_goes_only_in_the_language_it_is_written_in() -> None:
    assert written_in("Khai mạc và giới thiệu các đoàn") == "vi"
    assert written_in("ພິທີເປີດ ແລະ ແນະນຳຄະນະຜູ້ແທນ") == "lo"
    assert written_in("Opening and introduction of the delegations") == "en"
    assert written_in("Đón đoàn") == "vi"  # đ alone is enough
    assert draft_titles("Bế mạc", ("vi", "lo")) == {"vi": "Bế mạc", "lo": ""}
    assert draft_titles("ພິທີປິດ", ("vi", "lo")) == {"vi": "", "lo": "ພິທີປິດ"}
    assert draft_titles("Closing remarks", ("vi", "lo")) == {"vi": "", "lo": ""}
    assert draft_titles("Closing remarks", ("en", "vi")) == {"en": "Closing remarks", "vi": ""}


async def test_an_untranslated_item_is_named_by_its_agenda_title(client: Any, people: Any) -> None:
    secretary = await people("secretary@concord.example")
    status, made = await secretary.call("POST", API, {})
    assert status == 201, made
    assert made["document"]["items"][0]["title"] == {"vi": "", "lo": ""}
    status, page = await secretary.call("GET", f"/conferences/{MOU}/minutes.html")
    assert status == 200
    assert "1. Opening and introduction of the delegations</h2>" in page
    status, editor = await secretary.call("GET", f"/conferences/{MOU}/minutes/edit")
    assert status == 200 and "Opening and introduction of the delegations" in editor


async def test_locked_minutes_are_explained_in_the_secretary_s_language(
    client: Any, people: Any
) -> None:
    secretary = await people("secretary@concord.example")  # reads Vietnamese
    status, made = await secretary.call("POST", API, {})
    assert status == 201, made
    status, circulated = await secretary.call("POST", API + "/circulate", {})
    assert status == 200, circulated
    body = {"base_revision": circulated["revision"], "document": made["document"]}
    status, refused = await secretary.call("PUT", API, body)
    assert status == 409, refused
    assert refused["detail"].startswith("These minutes are circulated to the delegations")
    assert refused["message"].startswith("Biên bản này đang ở trạng thái circulated")
