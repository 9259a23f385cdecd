"""The minutes document: validation naming the field path, canonical JSON and its digest."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace

import pytest

from server.minutes.document import (
    MAX_ITEMS,
    MAX_TEXT,
    ActionItem,
    Interval,
    InvalidMinutes,
    ItemMinutes,
    Minutes,
    SiteAttendance,
)
from tests.minutes.fixtures import at, minutes, with_item


def refused(build: object) -> InvalidMinutes:
    assert callable(build)
    with pytest.raises(InvalidMinutes) as caught:
        build()
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_a_language_the_document_does_not_have_is_named_by_path() -> None:
    m = minutes()
    error = refused(lambda: with_item(m, 1, discussion={"vi": "Hợp tác", "fr": "Coopération"}))
    assert error.path == "items[1].discussion.fr"
    assert "vi, lo" in str(error)
    # The template and its values come along, so that a page says it in the reader's language.
    assert error.errors == [
        {
            "field": "items[1].discussion.fr",
            "message": "'fr' is not a language of these minutes (vi, lo)",
            "template": "%(code)s is not a language of these minutes (%(known)s)",
            "params": {"code": "'fr'", "known": "vi, lo"},
        }
    ]


def test_a_text_too_long_is_named_by_path() -> None:
    m = minutes()
    error = refused(lambda: with_item(m, 0, discussion={"lo": "ກ" * (MAX_TEXT + 1)}))
    assert error.path == "items[0].discussion.lo"
    assert "200,000" in str(error)
    with_item(m, 0, discussion={"lo": "ກ" * MAX_TEXT})  # the bound itself is fine


@pytest.mark.parametrize("due", ["31/12/2026", "2026-02-30", "2026-12-31T10:00", "20261231"])
def test_due_dates_must_be_iso_calendar_dates(due: str) -> None:
    m = minutes()
    action = ActionItem(what={"vi": "Báo cáo"}, owner="Phonesavanh", due=due)
    error = refused(lambda: with_item(m, 1, actions=(m.items[1].actions[0], action)))
    assert error.path == "items[1].actions[1].due"


def test_decision_in_an_unknown_language_and_bad_characters() -> None:
    m = minutes()
    error = refused(lambda: with_item(m, 1, decisions=({"vi": "A"}, {"th": "ความร่วมมือ"})))
    assert error.path == "items[1].decisions[1].th"
    error = refused(lambda: with_item(m, 0, title={"vi": "Khai\x00mạc"}))
    assert error.path == "items[0].title.vi"


def test_sizes_languages_and_sessions_are_bounded() -> None:
    items = tuple(ItemMinutes(session_uid=f"s{i}") for i in range(MAX_ITEMS + 1))
    assert refused(lambda: Minutes(1, ("vi",), items)).path == "items"
    Minutes(1, ("vi",), items[:MAX_ITEMS])
    assert refused(lambda: Minutes(1, ())).path == "languages"
    assert refused(lambda: Minutes(1, ("vi", "vi"))).path == "languages[1]"
    assert refused(lambda: Minutes(1, ("Vietnamese",))).path == "languages[0]"
    twice = (ItemMinutes("s1"), ItemMinutes("s1"))
    assert refused(lambda: Minutes(1, ("vi",), twice)).path == "items[1].session_uid"


def test_attendance_intervals_are_checked() -> None:
    backwards = SiteAttendance("s1", 3, (Interval(at(10, 0), at(9, 0)),))
    error = refused(lambda: replace(minutes(), attendance=(backwards,)))
    assert error.path == "attendance[0].intervals[0].end"


def test_reading_json_names_the_path_too() -> None:
    data = minutes().to_dict()
    data["items"][1]["decisions"][0] = "Ký biên bản"
    assert refused(lambda: Minutes.from_dict(data)).path == "items[1].decisions[0]"
    data = minutes().to_dict()
    data["items"][1]["actions"][0]["due"] = "ngày mai"
    assert refused(lambda: Minutes.from_dict(data)).path == "items[1].actions[0].due"
    data = minutes().to_dict()
    data["attendance"] = [{"session_uid": "s1", "site_id": 1, "intervals": [{"start": "x"}]}]
    assert refused(lambda: Minutes.from_dict(data)).path == "attendance[0].intervals[0].start"
    assert refused(lambda: Minutes.from_json("{not json")).path == "$"
    data = minutes().to_dict()
    data["signature"] = "?"
    assert refused(lambda: Minutes.from_dict(data)).path == "signature"


def test_json_round_trip_is_canonical() -> None:
    m = replace(
        minutes(),
        attendance=(SiteAttendance("s-opening@concord", 3, (Interval(at(9, 0), at(10, 0)),)),),
    )
    text = m.to_json()
    assert Minutes.from_json(text) == m
    assert Minutes.from_json(text).to_json() == text
    assert Minutes.from_json(text.encode("utf-8")) == m
    # Sorted keys, compact, UTF-8 characters as they are.
    assert text.startswith('{"attendance":[{"intervals":')
    assert ", " not in text and ": " not in text
    assert "ການຮ່ວມມື" in text and "Hợp tác" in text
    assert json.loads(text) == m.to_dict()


def test_same_content_same_digest_whatever_the_key_order() -> None:
    m = minutes()
    digest = m.digest()
    assert len(digest) == 64
    assert minutes().digest() == digest
    shuffled = json.dumps(
        {k: m.to_dict()[k] for k in reversed(list(m.to_dict()))}, indent=2, ensure_ascii=True
    )
    assert Minutes.from_json(shuffled).digest() == digest
    reordered = with_item(m, 1, title={"lo": "ການຮ່ວມມື", "vi": "Hợp tác"})
    assert reordered.digest() == digest
    assert with_item(m, 1, title={"vi": "Hợp tác.", "lo": "ການຮ່ວມມື"}).digest() != digest


def test_decomposed_vietnamese_and_windows_line_breaks_give_the_same_digest() -> None:
    m = minutes()
    nfd = unicodedata.normalize("NFD", "Hợp tác")
    assert nfd != "Hợp tác"
    same = with_item(m, 1, title={"vi": nfd, "lo": unicodedata.normalize("NFD", "ການຮ່ວມມື")})
    assert same.digest() == m.digest()
    a = with_item(m, 0, discussion={"vi": "Dòng một\r\nDòng hai"})
    b = with_item(m, 0, discussion={"vi": "Dòng một\nDòng hai"})
    assert a == b and a.digest() == b.digest()


def test_the_document_is_immutable() -> None:
    m = minutes()
    with pytest.raises(AttributeError):
        m.conference_id = 8  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.items[0].title["vi"] = "?"  # type: ignore[index]
