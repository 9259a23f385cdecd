"""Revisions: the diff per field path, the three-way merge, and stale saves refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from server.minutes.document import ActionItem, ItemMinutes, Minutes
from server.minutes.revisions import StaleRevision, check_base, diff, merge
from tests.minutes.fixtures import minutes, with_item

DECISIONS = (
    {"vi": "Ký biên bản ghi nhớ.", "lo": "ລົງນາມບົດບັນທຶກຄວາມເຂົ້າໃຈ."},
    {"vi": "Trao đổi sinh viên.", "lo": "ແລກປ່ຽນນັກສຶກສາ."},
)


def test_diff_finds_each_kind_of_change() -> None:
    old = minutes()
    new = with_item(
        old,
        1,
        discussion={"vi": "Thảo luận về hợp tác y tế."},  # vi changed, lo removed
        decisions=(*DECISIONS, {"vi": "Học bổng.", "lo": "ທຶນການສຶກສາ."}),
        actions=(),
    )
    new = with_item(new, 0, title={"lo": "ພິທີເປີດ", "vi": "Khai mạc"})  # same, other order
    changes = {c.path: c for c in diff(old, new)}
    assert set(changes) == {
        "items[1].discussion.vi",
        "items[1].discussion.lo",
        "items[1].decisions[2]",
        "items[1].actions[0]",
    }
    vi = changes["items[1].discussion.vi"]
    assert (vi.kind, vi.old, vi.new) == (
        "changed",
        "Thảo luận về hợp tác giáo dục.",
        "Thảo luận về hợp tác y tế.",
    )
    assert vi.lines == ()  # short: no line diff
    assert changes["items[1].discussion.lo"].kind == "removed"
    added = changes["items[1].decisions[2]"]
    assert added.kind == "added" and added.new == {"vi": "Học bổng.", "lo": "ທຶນການສຶກສາ."}
    removed = changes["items[1].actions[0]"]
    assert removed.kind == "removed" and removed.old["owner"] == "Nguyễn Văn An"
    assert diff(old, minutes()) == []


def test_a_new_agenda_item_is_one_change() -> None:
    old = minutes()
    new = replace(old, items=(*old.items, ItemMinutes("s-closing", title={"vi": "Bế mạc"})))
    (change,) = diff(old, new)
    assert change.path == "items[2]" and change.kind == "added"


def test_long_texts_get_a_line_diff() -> None:
    lines = [f"Đoạn {i}: hợp tác giữa hai tỉnh về giáo dục và y tế." for i in range(10)]
    old = with_item(minutes(), 1, discussion={"vi": "\n".join(lines)})
    lines[4] = "Đoạn 4: ການຮ່ວມມື (sửa)."
    new = with_item(minutes(), 1, discussion={"vi": "\n".join(lines)})
    (change,) = diff(old, new)
    assert change.lines[:2] == ("--- before", "+++ after")
    assert "-Đoạn 4: hợp tác giữa hai tỉnh về giáo dục và y tế." in change.lines
    assert "+Đoạn 4: ການຮ່ວມມື (sửa)." in change.lines
    assert "-Đoạn 0: hợp tác giữa hai tỉnh về giáo dục và y tế." not in change.lines


def test_disjoint_edits_merge_automatically() -> None:
    base = minutes()
    mine = with_item(base, 1, discussion={**base.items[1].discussion, "vi": "Thảo luận (vi)."})
    theirs = with_item(base, 1, discussion={**base.items[1].discussion, "lo": "ປຶກສາຫາລື (lo)."})
    theirs = with_item(theirs, 0, title={"vi": "Khai mạc hội nghị", "lo": "ພິທີເປີດກອງປະຊຸມ"})
    result = merge(base, mine, theirs)
    assert result.clean
    assert result.merged.items[1].discussion == {"vi": "Thảo luận (vi).", "lo": "ປຶກສາຫາລື (lo)."}
    assert result.merged.items[0].title["vi"] == "Khai mạc hội nghị"
    assert merge(base, base, base).merged == base


def test_the_same_field_edited_differently_is_a_conflict_with_all_three_values() -> None:
    base = minutes()
    mine = with_item(base, 1, discussion={**base.items[1].discussion, "vi": "Bản của tôi."})
    theirs = with_item(base, 1, discussion={**base.items[1].discussion, "vi": "Bản của họ."})
    theirs = with_item(theirs, 0, discussion={"vi": "Chào mừng.", "lo": "ຍິນດີຕ້ອນຮັບ."})
    result = merge(base, mine, theirs)
    assert not result.clean
    (conflict,) = result.conflicts
    assert conflict.path == "items[1].discussion.vi"
    assert (conflict.base, conflict.mine, conflict.theirs) == (
        "Thảo luận về hợp tác giáo dục.",
        "Bản của tôi.",
        "Bản của họ.",
    )
    # The rest merged; the conflict shows mine until chosen.
    assert result.merged.items[1].discussion["vi"] == "Bản của tôi."
    assert result.merged.items[0].discussion["lo"] == "ຍິນດີຕ້ອນຮັບ."
    chosen = result.resolve({"items[1].discussion.vi": "theirs"})
    assert chosen.items[1].discussion["vi"] == "Bản của họ."
    assert chosen.items[0].discussion["lo"] == "ຍິນດີຕ້ອນຮັບ."
    with pytest.raises(KeyError):
        result.resolve({"items[0].title.vi": "theirs"})


def test_both_sides_making_the_same_edit_is_no_conflict() -> None:
    base = minutes()
    same = with_item(base, 1, title={"vi": "Hợp tác giáo dục", "lo": "ການຮ່ວມມືດ້ານການສຶກສາ"})
    result = merge(base, same, same)
    assert result.clean and result.merged == same


def test_list_edits_merge_by_position() -> None:
    base = minutes()
    # Mine edits decision 0, theirs appends decision 2 and edits the action item's owner.
    mine = with_item(base, 1, decisions=({"vi": "Ký MoU.", "lo": "ລົງນາມ MoU."}, DECISIONS[1]))
    action = replace(base.items[1].actions[0], owner="Phonesavanh Keomany")
    theirs = with_item(
        base,
        1,
        decisions=(*DECISIONS, {"vi": "Học bổng.", "lo": "ທຶນການສຶກສາ."}),
        actions=(action,),
    )
    result = merge(base, mine, theirs)
    assert result.clean
    merged = result.merged.items[1]
    assert [d["vi"] for d in merged.decisions] == ["Ký MoU.", "Trao đổi sinh viên.", "Học bổng."]
    assert merged.actions[0].owner == "Phonesavanh Keomany"


def test_list_removal_on_one_side_and_edit_of_another_position() -> None:
    base = minutes()
    mine = with_item(base, 1, decisions=(DECISIONS[0],))  # removes decision 1
    theirs = with_item(base, 1, decisions=({"vi": "Ký MoU."}, DECISIONS[1]))  # edits 0
    result = merge(base, mine, theirs)
    assert result.clean
    assert result.merged.items[1].decisions == ({"vi": "Ký MoU."},)


def test_both_changing_the_same_position_is_a_conflict() -> None:
    base = minutes()
    mine = with_item(base, 1, decisions=(*DECISIONS, {"vi": "Học bổng."}))
    theirs = with_item(base, 1, decisions=(*DECISIONS, {"lo": "ທຶນການສຶກສາ."}))
    (conflict,) = merge(base, mine, theirs).conflicts
    assert conflict.path == "items[1].decisions[2]"
    assert (conflict.base, conflict.mine, conflict.theirs) == (
        None,
        {"vi": "Học bổng."},
        {"lo": "ທຶນການສຶກສາ."},
    )
    # Removed on one side, changed on the other: a conflict too.
    removed = with_item(base, 1, actions=())
    edited = with_item(
        base, 1, actions=(ActionItem({"vi": "Kế hoạch."}, "Nguyễn Văn An", "2027-01-15"),)
    )
    result = merge(base, removed, edited)
    (conflict,) = result.conflicts
    assert conflict.path == "items[1].actions[0]"
    assert conflict.mine is None and conflict.theirs is not None
    assert result.resolve({conflict.path: "theirs"}).items[1].actions[0].due == "2027-01-15"
    assert result.resolve({conflict.path: "mine"}).items[1].actions == ()


def test_different_sessions_at_one_position_are_not_mixed() -> None:
    base = minutes()
    mine = replace(base, items=(*base.items, ItemMinutes("s-a", title={"vi": "A"})))
    theirs = replace(base, items=(*base.items, ItemMinutes("s-b", discussion={"lo": "ບ"})))
    (conflict,) = merge(base, mine, theirs).conflicts
    assert conflict.path == "items[2]"


def test_an_invalid_combination_becomes_a_conflict() -> None:
    base = Minutes(7, ("vi", "lo"))
    mine = replace(base, items=(ItemMinutes("s-a"),))
    theirs = replace(base, items=(ItemMinutes("s-a"), ItemMinutes("s-b")))
    assert merge(base, mine, theirs).clean  # position 0 the same, 1 only theirs
    swapped = replace(base, items=(ItemMinutes("s-b"), ItemMinutes("s-a")))
    result = merge(base, mine, swapped)  # s-a at 0 mine, s-b at 0 theirs: conflict
    # Keeping mine at 0 and taking theirs' new 1 would list s-a twice: named as a conflict.
    assert [c.path for c in result.conflicts] == ["items[0]", "items[1].session_uid"]
    assert result.merged == mine
    assert result.resolve({"items[0]": "theirs"}) == swapped


def test_a_stale_base_is_refused_with_who_when_and_what_to_do() -> None:
    check_base(5, 5)
    saved_at = dt.datetime(2026, 11, 28, 9, 41, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    with pytest.raises(StaleRevision) as caught:
        check_base(7, 5, saved_by="Somphone Vongsa", saved_at=saved_at)
    error = caught.value
    message = str(error)
    assert "Somphone Vongsa saved revision 7 at 2026-11-28 02:41:05 UTC" in message
    assert "after revision 5 that you were editing (2 newer revisions)" in message
    assert "not saved" in message and "Reload the minutes and merge" in message
    assert error.status == 409 and error.code == "stale_revision"
    assert (error.current, error.base, error.saved_by) == (7, 5, "Somphone Vongsa")
    with pytest.raises(StaleRevision, match="another editor saved revision 6 at an unknown"):
        check_base(6, 5)
    with pytest.raises(ValueError, match="revision 9 does not exist"):
        check_base(6, 9)
