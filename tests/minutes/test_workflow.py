"""The workflow: draft → circulated → final (and back to draft), who may take each step,
comments per delegation, and the lock of final minutes."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from server.minutes.document import InvalidMinutes
from server.minutes.workflow import (
    Comment,
    IllegalStep,
    MinutesLocked,
    MinutesRecord,
    MinutesState,
    WrongRole,
    add_comment,
    circulate,
    edit,
    finalise,
    finalise_record,
    next_states,
    return_to_draft,
    who_may,
)
from tests.minutes.fixtures import at, minutes, with_item

VN, LA = 11, 12  # delegation ids: Quảng Ngãi, Attapeu


def test_the_states_and_who_may_take_each_step() -> None:
    assert next_states(MinutesState.DRAFT) == [MinutesState.CIRCULATED]
    assert next_states(MinutesState.CIRCULATED) == [MinutesState.DRAFT, MinutesState.FINAL]
    assert next_states(MinutesState.FINAL) == []
    assert who_may(MinutesState.CIRCULATED, MinutesState.FINAL) == {"organiser"}
    assert who_may(MinutesState.DRAFT, MinutesState.FINAL) == frozenset()


def test_the_whole_workflow_with_roles() -> None:
    record = MinutesRecord(minutes())
    assert record.state == "draft" and not record.locked
    record = edit(record, with_item(record.minutes, 0, discussion={"vi": "Mở đầu."}), ["secretary"])
    with pytest.raises(WrongRole, match="organiser or secretary"):
        edit(record, record.minutes, ["delegate"])
    with pytest.raises(WrongRole):
        circulate(record, [VN, LA], ["delegate", "interpreter"])
    with pytest.raises(IllegalStep, match="cannot become final"):
        finalise_record(record, ["organiser"])

    record = circulate(record, [VN, LA], ["secretary"])
    assert record.state is MinutesState.CIRCULATED
    assert (record.round, record.delegations) == (1, frozenset({VN, LA}))
    with pytest.raises(MinutesLocked, match="Return them to draft"):
        edit(record, record.minutes, ["secretary"])
    record = add_comment(
        record, Comment(LA, "Khamla", at(15, 0), "  ແກ້ໄຂຊື່ຂອງແຂວງ.  ", "items[0].title.lo")
    )
    assert record.silent_delegations() == {VN}
    assert record.comments[0].text == "ແກ້ໄຂຊື່ຂອງແຂວງ." and record.comments[0].round == 1

    with pytest.raises(WrongRole, match="Only the organiser may"):
        finalise_record(record, ["secretary"])
    record = return_to_draft(record, ["secretary"])
    fixed = with_item(record.minutes, 0, title={"vi": "Khai mạc", "lo": "ພິທີເປີດ (ແກ້ໄຂ)"})
    record = edit(record, fixed, ["secretary"])
    record = circulate(record, [VN, LA], ["organiser"])
    assert record.round == 2 and record.comments_of_round() == ()
    assert len(record.comments_of_round(1)) == 1

    final = finalise_record(record, ["organiser", "delegate"])
    assert final.state == "final" and final.locked
    assert final.digest == fixed.digest()
    assert final.digest == hashlib.sha256(fixed.to_json().encode()).hexdigest()
    assert final.verify()
    assert final.minutes == fixed


def test_final_minutes_are_locked() -> None:
    record = circulate(MinutesRecord(minutes()), [VN], ["secretary"])
    final = finalise_record(record, ["organiser"])
    with pytest.raises(MinutesLocked, match="final"):
        edit(final, final.minutes, ["organiser"])
    for state in MinutesState:
        with pytest.raises(IllegalStep, match="Final minutes are locked"):
            if state is MinutesState.DRAFT:
                return_to_draft(final, ["organiser"])
            elif state is MinutesState.CIRCULATED:
                circulate(final, [VN], ["organiser"])
            else:
                finalise_record(final, ["organiser"])
    with pytest.raises(IllegalStep):
        add_comment(final, Comment(VN, "An", at(16, 0), "Muộn quá."))
    # A changed text no longer verifies against the recorded digest.
    tampered = MinutesRecord(
        with_item(final.minutes, 0, discussion={"vi": "Khác."}),
        state=MinutesState.FINAL,
        digest=final.digest,
    )
    assert not tampered.verify()


def test_comments_only_from_delegations_while_circulated() -> None:
    record = MinutesRecord(minutes())
    with pytest.raises(IllegalStep, match="not draft"):
        add_comment(record, Comment(VN, "An", at(15, 0), "Đồng ý."))
    record = circulate(record, [VN], ["secretary"])
    with pytest.raises(WrongRole, match="not circulated to this delegation"):
        add_comment(record, Comment(LA, "Khamla", at(15, 0), "ເຫັນດີ."))
    with pytest.raises(InvalidMinutes) as caught:
        add_comment(record, Comment(VN, "An", at(15, 0), "   "))
    assert caught.value.path == "text"
    with pytest.raises(ValueError, match="path"):
        add_comment(record, Comment(VN, "An", at(15, 0), "Sửa.", "items[0]..vi"))
    with pytest.raises(InvalidMinutes):
        circulate(MinutesRecord(minutes()), [], ["secretary"])


def test_edits_stay_within_the_conference() -> None:
    record = MinutesRecord(minutes())
    with pytest.raises(InvalidMinutes) as caught:
        edit(record, replace(minutes(), conference_id=8), ["secretary"])
    assert caught.value.path == "conference_id"


def test_finalise_returns_the_stored_text_and_its_digest() -> None:
    stored, digest = finalise(minutes())
    assert stored == minutes()
    assert digest == minutes().digest() == stored.digest()
