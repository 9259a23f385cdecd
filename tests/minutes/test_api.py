"""The minutes over the JSON API, on SQLite and PostgreSQL: concurrent saves refused with the
merge, revisions and their diff, the workflow, the final lock, its digest and ledger entry."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from sqlalchemy import select

from server.db import Database
from server.keys import LEDGER_SIGNER
from server.ledger.operations import load_log, verify
from server.models import LedgerEntry
from tests.minutes.conftest import API, MOU, Client, make_delegation_member

SECRETARY = "secretary@concord.example"
ORGANISER = "organiser@concord.example"


def with_text(
    document: dict[str, Any], item: int, field: str, lang: str, text: str
) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["items"][item][field][lang] = text
    return changed


async def test_two_editors_on_one_base_the_second_is_refused_with_the_merge(
    client: Client, people: Any
) -> None:
    secretary, organiser = await people(SECRETARY), await people(ORGANISER)
    status, made = await secretary.call("POST", API, {})
    assert status == 201, made
    assert made["revision"] == 1 and made["state"] == "draft"
    document = made["document"]
    assert document["languages"] == ["vi", "lo"]
    assert len(document["items"]) == 5  # one per agenda session
    # The agenda is in English: no column starts with its titles, each waits for its language.
    assert document["items"][0]["title"] == {"vi": "", "lo": ""}

    mine = with_text(document, 0, "discussion", "vi", "Hai bên chào mừng.")
    status, saved = await secretary.call("PUT", API, {"base_revision": 1, "document": mine})
    assert status == 200, saved
    assert saved["revision"] == 2 and saved["saved_by"] == "Thư ký hội nghị"

    # The organiser typed in the same field on revision 1: refused, nothing overwritten.
    theirs = with_text(document, 0, "discussion", "vi", "Khai mạc hội nghị.")
    status, problem = await organiser.call("PUT", API, {"base_revision": 1, "document": theirs})
    assert status == 409
    assert problem["code"] == "stale_revision"
    assert "Thư ký hội nghị saved revision 2" in problem["detail"]
    assert problem["current_revision"] == 2
    assert problem["conflicts"] == [
        {
            "path": "items[0].discussion.vi",
            "base": "",
            "mine": "Khai mạc hội nghị.",
            "theirs": "Hai bên chào mừng.",
        }
    ]
    status, now = await secretary.call("GET", API)
    assert now["revision"] == 2
    assert now["document"]["items"][0]["discussion"]["vi"] == "Hai bên chào mừng."

    # A different field on the same stale base merges cleanly; saved on top of revision 2.
    other = with_text(document, 1, "discussion", "lo", "ຄຳປາໄສ")
    status, problem = await organiser.call("PUT", API, {"base_revision": 1, "document": other})
    assert status == 409 and problem["conflicts"] == []
    merged = problem["merged"]
    assert merged["items"][0]["discussion"]["vi"] == "Hai bên chào mừng."
    assert merged["items"][1]["discussion"]["lo"] == "ຄຳປາໄສ"
    status, saved = await organiser.call("PUT", API, {"base_revision": 2, "document": merged})
    assert status == 200 and saved["revision"] == 3

    # Revisions, one of them, and the diff between two.
    status, listed = await secretary.call("GET", API + "/revisions")
    assert [r["number"] for r in listed["revisions"]] == [3, 2, 1]
    assert [r["kind"] for r in listed["revisions"]] == ["save", "save", "created"]
    status, one = await secretary.call("GET", API + "/revisions/2")
    assert one["document"]["items"][0]["discussion"]["vi"] == "Hai bên chào mừng."
    status, changes = await secretary.call("GET", API + "/revisions/2/diff/3")
    assert status == 200
    assert [(c["path"], c["kind"], c["old"], c["new"]) for c in changes["changes"]] == [
        ("items[1].discussion.lo", "changed", "", "ຄຳປາໄສ")
    ]
    status, missing = await secretary.call("GET", API + "/revisions/9")
    assert status == 404 and missing["code"] == "minutes_revision_not_found"


async def test_bad_documents_are_named_and_change_nothing(client: Client, people: Any) -> None:
    secretary = await people(SECRETARY)
    status, made = await secretary.call("POST", API, {})
    document = made["document"]
    bad = copy.deepcopy(document)
    bad["items"][1]["decisions"] = [{"vi": "Quyết định", "fr": "Décision"}]
    status, problem = await secretary.call("PUT", API, {"base_revision": 1, "document": bad})
    assert status == 422
    assert problem["errors"][0]["field"] == "items[1].decisions[0].fr"
    status, problem = await secretary.call("PUT", API, {"base_revision": 7, "document": document})
    assert status == 422 and problem["code"] == "bad_base_revision"
    other = copy.deepcopy(document)
    other["languages"] = ["vi"]
    other["items"] = []
    status, problem = await secretary.call("PUT", API, {"base_revision": 1, "document": other})
    assert status == 422 and problem["errors"][0]["field"] == "languages"
    status, again = await secretary.call("POST", API, {})
    assert status == 409 and again["code"] == "minutes_exist"
    status, now = await secretary.call("GET", API + "/revisions")
    assert len(now["revisions"]) == 1


async def test_circulate_comment_and_final_locks_with_digest_and_ledger(
    client: Client, demo: Database, people: Any
) -> None:
    delegation = await make_delegation_member(demo, "delegate@concord.example")
    secretary, organiser = await people(SECRETARY), await people(ORGANISER)
    delegate, technician = (
        await people("delegate@concord.example"),
        await people("technician@concord.example"),
    )
    status, made = await secretary.call("POST", API, {})
    text = with_text(made["document"], 3, "discussion", "lo", "ລົງນາມ")
    status, _ = await secretary.call("PUT", API, {"base_revision": 1, "document": text})
    assert status == 200

    # Before circulation, the delegation does not read the draft; technicians never.
    assert (await delegate.call("GET", API))[0] == 403
    assert (await technician.call("GET", API))[0] == 403

    status, circulated = await secretary.call("POST", API + "/circulate", {})
    assert status == 200 and circulated["state"] == "circulated" and circulated["round"] == 1
    status, locked = await secretary.call("PUT", API, {"base_revision": 2, "document": text})
    assert status == 409 and locked["code"] == "minutes_locked"
    status, read = await delegate.call("GET", API)
    assert status == 200 and read["document"]["items"][3]["discussion"]["lo"] == "ລົງນາມ"

    status, comment = await delegate.call(
        "POST", API + "/comments", {"text": "ແກ້ໄຂຊື່", "path": "items[3].discussion.lo"}
    )
    assert status == 201, comment
    assert comment["delegation_id"] == delegation and comment["round"] == 1
    status, refused = await secretary.call("POST", API + "/comments", {"text": "mine"})
    assert status == 403 and refused["code"] == "not_a_delegation_member"
    assert (await technician.call("POST", API + "/comments", {"text": "x"}))[0] == 403
    status, comments = await secretary.call("GET", API + "/comments")
    assert [c["text"] for c in comments["comments"]] == ["ແກ້ໄຂຊື່"]

    # Finalising is the organiser's.
    status, refused = await secretary.call("POST", API + "/final", {})
    assert status == 403
    status, final = await organiser.call("POST", API + "/final", {})
    assert status == 200, final
    assert final["state"] == "final" and final["revision"] == 2
    status, revision = await secretary.call("GET", API + "/revisions/2")
    from server.minutes.document import Minutes

    canonical = Minutes.from_dict(revision["document"]).to_json().encode("utf-8")
    assert final["digest"] == hashlib.sha256(canonical).hexdigest() == revision["digest"]

    # Locked for good: every save and step is refused.
    status, locked = await secretary.call("PUT", API, {"base_revision": 2, "document": text})
    assert status == 409 and locked["code"] == "minutes_locked"
    status, step = await organiser.call("POST", API + "/draft", {})
    assert status == 409 and step["code"] == "illegal_transition"
    status, step = await organiser.call("POST", API + "/attendance", {})
    assert status == 409
    assert (await delegate.call("POST", API + "/comments", {"text": "late"}))[0] == 409

    # The ledger holds the hash (and ids, no text) and verifies with the public key.
    async with demo.session() as db:
        entries = list(await db.scalars(select(LedgerEntry)))
        loaded = await load_log(db)
    entry = next(e for e in entries if e.kind == "minutes_final")
    assert entry.ref == f"minutes:{MOU}"
    assert entry.payload["sha256"] == final["digest"] and entry.payload["revision"] == 2
    assert final["ledger_position"] == entry.position
    assert "ລົງນາມ" not in entry.data.decode()
    assert verify(loaded, client.app[LEDGER_SIGNER].public_key_pem()) == []


async def test_a_delegation_reads_the_circulated_revisions_not_the_drafts_between(
    client: Client, demo: Database, people: Any
) -> None:
    """Revisions 1 and 3 are the editors' drafts; 2 and 4 went to the delegations. A delegation
    member lists and opens only those, and compares them; the secretary sees every one."""
    await make_delegation_member(demo, "delegate@concord.example")
    secretary, delegate = await people(SECRETARY), await people("delegate@concord.example")
    status, made = await secretary.call("POST", API, {})
    first = with_text(made["document"], 0, "discussion", "vi", "Bản nháp đầu tiên.")
    assert (await secretary.call("PUT", API, {"base_revision": 1, "document": first}))[0] == 200
    assert (await secretary.call("POST", API + "/circulate", {}))[0] == 200  # revision 2
    assert (await secretary.call("POST", API + "/draft", {}))[0] == 200
    second = with_text(first, 0, "discussion", "vi", "Chỉ thư ký thấy câu này.")
    assert (await secretary.call("PUT", API, {"base_revision": 2, "document": second}))[0] == 200
    third = with_text(second, 0, "discussion", "vi", "Bản gửi lần hai.")
    assert (await secretary.call("PUT", API, {"base_revision": 3, "document": third}))[0] == 200
    assert (await secretary.call("POST", API + "/circulate", {}))[0] == 200  # revision 4

    status, listed = await delegate.call("GET", API + "/revisions")
    assert status == 200 and [r["number"] for r in listed["revisions"]] == [4, 2]
    status, every = await secretary.call("GET", API + "/revisions")
    assert [r["number"] for r in every["revisions"]] == [4, 3, 2, 1]
    status, two = await delegate.call("GET", API + "/revisions/2")
    assert status == 200 and two["document"]["items"][0]["discussion"]["vi"] == "Bản nháp đầu tiên."
    for path in ("/revisions/3", "/revisions/1", "/revisions/2/diff/3"):
        status, refused = await delegate.call("GET", API + path)
        assert status == 403 and refused["code"] == "minutes_revision_draft", (path, refused)
    status, changes = await delegate.call("GET", API + "/revisions/2/diff/4")
    assert status == 200
    assert [(c["old"], c["new"]) for c in changes["changes"]] == [
        ("Bản nháp đầu tiên.", "Bản gửi lần hai.")
    ]
    assert (await secretary.call("GET", API + "/revisions/3"))[0] == 200
