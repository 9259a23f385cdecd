"""The minutes' first draft puts each agenda title only in the language it is written in, so
that the Vietnamese column never starts with English or Lao text (issue 17)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from server.db import Database
from server.minutes.build import draft_titles, written_in
from server.models import AgendaSession, Conference
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


async def test_each_occurrence_of_a_repeating_session_is_an_agenda_item_of_its_own(
    client: Any, demo: Database, people: Any
) -> None:
    """A working group meets at 14:00 on each of three days; the second day's meeting moved to
    15:00, the third day's was cancelled. The first draft has an item for each meeting that
    took place, keyed by the start its rule gave it; the export says which day each was."""
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    first = dt.datetime(2021, 10, 29, 14, tzinfo=hanoi)
    async with demo.session() as db, db.begin():
        conference = await db.get(Conference, MOU)
        assert conference is not None
        conference.ends_at = first + dt.timedelta(days=2, hours=3)
        series = AgendaSession(
            conference_id=MOU,
            title="Nhóm công tác về thương mại",
            starts_at=first,
            ends_at=first + dt.timedelta(hours=1),
            time_zone="Asia/Ho_Chi_Minh",
            rrule="FREQ=DAILY;COUNT=3",
            exdates=[(first + dt.timedelta(days=2)).astimezone(dt.UTC).isoformat()],
        )
        db.add(series)
        await db.flush()
        second = first + dt.timedelta(days=1)
        db.add(
            AgendaSession(
                conference_id=MOU,
                title="Nhóm công tác về thương mại (dời giờ)",
                starts_at=second + dt.timedelta(hours=1),
                ends_at=second + dt.timedelta(hours=2),
                time_zone="Asia/Ho_Chi_Minh",
                uid=series.uid,
                series_id=series.id,
                recurrence_id=second,
            )
        )
        uid = series.uid
    secretary = await people("secretary@concord.example")
    status, made = await secretary.call("POST", API, {})
    assert status == 201, made
    items = made["document"]["items"]
    keys = [item["session_uid"] for item in items]
    assert keys[-2:] == [f"{uid}+20211029T070000Z", f"{uid}+20211030T070000Z"], keys
    assert len(set(keys)) == len(keys) == 7  # the MoU's five sessions, and two meetings
    assert items[-2]["title"]["vi"] == "Nhóm công tác về thương mại"
    assert items[-1]["title"]["vi"] == "Nhóm công tác về thương mại (dời giờ)"
    status, page = await secretary.call("GET", f"/conferences/{MOU}/minutes.html")
    assert status == 200
    assert "2021-10-29 14:00–15:00" in page and "2021-10-30 15:00–16:00" in page
    status, editor = await secretary.call("GET", f"/conferences/{MOU}/minutes/edit")
    assert status == 200
    found = re.search(r"id=\"concord-config\"[^>]*>(.*?)</script>", editor, re.S)
    assert found
    agenda = json.loads(found[1])
    assert agenda["agenda"][keys[-1]] == "Nhóm công tác về thương mại (dời giờ) (2021-10-30)"
