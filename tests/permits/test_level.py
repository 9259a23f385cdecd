"""Who decides (Decision 06/2020/QĐ-TTg) and the lead time checked against that level: 40
days before a conference the Prime Minister decides on, 30 before one another competent person
decides on; a conference already too close at submission is refused unless the submitter says
they submit late, which is recorded and flagged in the approver's queue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, update

from server.db import Database
from server.models import AuditEntry, DecidingLevel, User
from server.permits.level import suggest
from server.permits.settings import permit_rules
from server.settings import load_config
from tests.permits.conftest import Client, People
from tests.permits.test_workflow import P, act, create


def days_ahead(days: int) -> str:
    # The authority's date (Asia/Ho_Chi_Minh), as the server counts it.
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    return (today + dt.timedelta(days=days)).isoformat()


def test_the_level_is_suggested_from_the_answers() -> None:
    plain = suggest(False, [])
    assert plain.level == DecidingLevel.COMPETENT_PERSON
    ministers = suggest(True, [])
    assert ministers.level == DecidingLevel.PRIME_MINISTER
    assert "ministers" in ministers.reasons[0]
    borders = suggest(False, ["borders", "religion"])
    assert borders.level == DecidingLevel.PRIME_MINISTER
    assert borders.reasons == ("borders", "religion")


def test_the_lead_times_are_settings(tmp_path: Path) -> None:
    base = {"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_SECRET_KEY": "k" * 40}
    default = permit_rules(load_config(environ=base))
    assert (default.lead_days_prime_minister, default.lead_days_competent_person) == (40, 30)
    assert default.consultation_working_days == 7 and len(default.consulted_agencies) == 2
    changed = permit_rules(
        load_config(
            environ={
                **base,
                "CONCORD_PERMIT_LEAD_DAYS_PRIME_MINISTER": "45",
                "CONCORD_PERMIT_LEAD_DAYS_COMPETENT_PERSON": "20",
                "CONCORD_PERMIT_CONSULTED_AGENCIES": "Sở Ngoại vụ; Công an tỉnh; Sở Ngoại vụ",
            }
        )
    )
    assert (changed.lead_days_prime_minister, changed.lead_days_competent_person) == (45, 20)
    assert changed.consulted_agencies == ("Sở Ngoại vụ", "Công an tỉnh")


async def test_thirty_five_days_ahead_is_enough_for_a_competent_person_not_for_the_pm(
    client: Client, people: People, demo: Database
) -> None:
    day = days_ahead(35)
    plain = await create(client, people, starts_on=day, ends_on=day)
    assert plain["suggested_level"] == "competent_person" and plain["deciding_level"] is None
    assert plain["lead"]["lead_days"] == 30 and plain["lead"]["missed"] is False
    submitted = await act(client, people, "organiser", f"{P}/{plain['id']}/submit", {})
    assert submitted["deciding_level"] == "competent_person"
    assert submitted["lead"]["confirmed"] is True and submitted["lead"]["submitted_late"] is False
    assert submitted["level_confirmed_at"] is not None

    # The same dates with foreign ministers: the Prime Minister decides, 40 days are needed.
    await act(client, people, "approver", f"{P}/{plain['id']}/decision", {"outcome": "approve"})
    pm = await create(client, people, starts_on=day, ends_on=day, ministerial_participants=True)
    assert pm["suggested_level"] == "prime_minister"
    assert pm["lead"]["lead_days"] == 40 and pm["lead"]["missed"] is True
    refused = await act(client, people, "organiser", f"{P}/{pm['id']}/submit", {}, 422)
    assert refused["code"] == "lead_time_missed"
    assert "35 days before" in refused["detail"] and "at least 40 days" in refused["detail"]
    assert "Prime Minister" in refused["detail"]


async def test_the_organiser_may_choose_the_other_level_and_who_confirmed_is_recorded(
    client: Client, people: People, demo: Database
) -> None:
    day = days_ahead(35)
    made = await create(
        client,
        people,
        starts_on=day,
        ends_on=day,
        sensitive_topics=["borders"],
        deciding_level="competent_person",  # the organiser's choice over the suggestion
    )
    assert made["suggested_level"] == "prime_minister" and made["suggestion_reasons"] == ["borders"]
    assert made["lead"]["level"] == "competent_person" and made["lead"]["missed"] is False
    await act(client, people, "organiser", f"{P}/{made['id']}/submit", {})
    async with demo.session() as db:
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "permit.submitted", AuditEntry.target_id == str(made["id"])
            )
        )
    assert entry is not None and entry.actor_id == people.ids["organiser"]
    assert entry.detail["deciding_level"] == "competent_person"
    assert entry.detail["lead_days"] == 30 and entry.detail["late"] is False


async def test_a_conference_already_too_close_is_submitted_only_as_late(
    client: Client, people: People, demo: Database
) -> None:
    day = days_ahead(12)
    made = await create(client, people, starts_on=day, ends_on=day)
    assert made["lead"]["missed"] is True and made["lead"]["days_before_start"] == 12
    refused = await act(client, people, "organiser", f"{P}/{made['id']}/submit", {}, 422)
    assert refused["code"] == "lead_time_missed" and "12 days before" in refused["detail"]
    assert "at least 30 days" in refused["detail"]
    late = await act(client, people, "organiser", f"{P}/{made['id']}/submit", {"submit_late": True})
    assert late["status"] == "submitted"
    assert late["lead"]["submitted_late"] is True and late["lead"]["missed"] is True
    async with demo.session() as db:
        entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "permit.submitted"))
        assert entry is not None and entry.detail["late"] is True
        await db.execute(update(User).values(locale="en"))
        await db.commit()

    queue = await (await client.get("/permits", headers=people("approver"))).text()
    row = queue[queue.index(f'href="/permits/{made["id"]}"') :].split("</tr>")[0]
    assert "lead time missed" in row
    page = await (await client.get(f"/permits/{made['id']}", headers=people("approver"))).text()
    assert 'id="lead-late"' in page and "12 days before the conference" in page


async def test_the_form_refuses_a_late_submission_until_it_is_acknowledged(
    client: Client, people: People, demo: Database
) -> None:
    """Through the pages: the refusal is shown, and the box to submit late appears."""
    day = days_ahead(12)
    made = await create(client, people, starts_on=day, ends_on=day)
    async with demo.session() as db, db.begin():
        await db.execute(update(User).values(locale="en"))
    page = await (await client.get(f"/permits/{made['id']}", headers=people("organiser"))).text()
    assert 'id="lead-missed"' in page and 'name="submit_late"' in page
    path = f"/permits/{made['id']}/submit"
    refused = await client.post(path, data={"comment": ""}, headers=people("organiser"))
    assert refused.status == 422
    assert "needs at least 30 days" in await refused.text()
    late = await client.post(
        path,
        data={"comment": "", "submit_late": "yes"},
        headers=people("organiser"),
        allow_redirects=False,
    )
    assert late.status in (302, 303), await late.text()
    shown = await (await client.get(f"{P}/{made['id']}", headers=people("organiser"))).json()
    assert shown["status"] == "submitted" and shown["lead"]["submitted_late"] is True
