"""The world the access matrix probes: the demo, plus a foreign conference, and one object of
every kind a route's path can name in each conference.

- The *own* conference is the demo's conference 1 (the MoU, ended): the demo organiser
  organises it; the technician, secretary and interpreters are members; the guest persona is
  invited to it; the demo delegate has no part in it (it is a member of conference 2 only).
- The *foreign* conference is a draft organised by a stranger: no persona but admins has a
  part in it (approvers read conferences only once they leave their draft).

``PATH_OBJECTS`` and ``PATH_VALUES`` declare what every path parameter names: a route whose
path takes a parameter declared in neither fails the matrix until it is declared here.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.demo.data import MOU
from server.demo.loader import _conference
from server.models import (
    AgendaSession,
    Agreement,
    AgreementParty,
    AgreementVersion,
    Base,
    Conference,
    Delegation,
    InterpreterAssignment,
    Invitation,
    MinutesDocument,
    MinutesRevision,
    PermitApplication,
    PermitAttachment,
    PermitConsultation,
    Recording,
    RecordingFile,
    Signatory,
    Site,
    User,
)

OWN = 1
#: Writes go to a conference that has not ended (conference 1 has: its edits answer 409
#: before any object is looked up): the demo's conference 2, scheduled, organised by the same
#: organiser, with the technician and secretary as members.
WRITABLE = 2
#: What each path parameter that names a conference's object names.
PATH_OBJECTS: dict[str, type[Base]] = {
    "session_id": AgendaSession,
    "site_id": Site,
    "delegation_id": Delegation,
    "assignment_id": InterpreterAssignment,
    "invitation_id": Invitation,
    "agreement_id": Agreement,
    "version_id": AgreementVersion,
    "signatory_id": Signatory,
    "recording_id": Recording,
    "application_id": PermitApplication,
    "attachment_id": PermitAttachment,
    "consultation_id": PermitConsultation,
}
#: Parameters that name no conference's object: one value for every probe. Numbers that
#: name nothing (999999) still reach the access checks, which come before the look-up.
PATH_VALUES: dict[str, str] = {
    "token_id": "999999",
    "user_id": "999999",  # an account (PATCH /api/users/{user_id}, admins)
    "feed_id": "999999",
    "token": "not-a-token",
    "filename": "css/concord.css",
    "language": "lo",  # the own conference's interpreter.lo works the lo booth
    "position": "999999",
    "number": "1",  # minutes revisions are numbered per conference
    "a": "1",
    "b": "1",
    "channel": "floor",
    "part": "2",  # a recording's later part (the world's recording has one: 404 after the check)
}
MISSING = "999999"
STRANGER = "stranger@concord.example"


@dataclass
class World:
    foreign: int = 0
    #: conference id → path parameter → the id of one such object of that conference
    objects: dict[int, dict[str, int]] = field(default_factory=dict)

    def values(self, conference_id: int, *, real: bool) -> dict[str, str]:
        """Path values for a probe of ``conference_id``: its own objects (``real``), or
        numbers that name nothing (writes of the own conference must change nothing)."""
        made = dict(PATH_VALUES, conference_id=str(conference_id))
        for name, found in self.objects[conference_id].items():
            made[name] = str(found) if real or name == "application_id" else MISSING
        return made


async def build_world(database: Database) -> World:
    world = World()
    async with database.session() as db, db.begin():
        stranger = User(email=STRANGER, display_name="Stranger", locale="en", password_hash="!")
        db.add(stranger)
        await db.flush()
        spec: dict[str, Any] = {
            **MOU,
            "slug": "access-matrix-foreign",
            "status": "draft",
            "interpreters": [(STRANGER, "Stranger", "lo", ["vi"])],
            "members": [],
        }
        people = {"organiser@concord.example": stranger, STRANGER: stranger}
        foreign = _conference(spec, people)
        db.add(foreign)
        await db.flush()
        world.foreign = foreign.id
        furnished = ((OWN, "submitted"), (WRITABLE, "withdrawn"), (foreign.id, "draft"))
        for conference_id, permit in furnished:
            world.objects[conference_id] = await _furnish(db, conference_id, stranger, permit)
    return world


async def _first(db: AsyncSession, model: Any, conference_id: int) -> int:
    found = await db.scalar(select(func.min(model.id)).where(model.conference_id == conference_id))
    assert found is not None, f"the demo has no {model.__name__} in {conference_id}"
    return int(found)


async def _furnish(
    db: AsyncSession, conference_id: int, stranger: User, permit: str
) -> dict[str, int]:
    """One object of each kind in the conference (besides the demo's sessions, sites, ...)."""
    found = {
        name: await _first(db, model, conference_id)
        for name, model in (
            ("session_id", AgendaSession),
            ("site_id", Site),
            ("delegation_id", Delegation),
            ("assignment_id", InterpreterAssignment),
        )
    }
    now = dt.datetime.now(dt.UTC)
    unique = secrets.token_hex(8)
    invitation = Invitation(
        conference_id=conference_id,
        site_id=found["site_id"],
        role="delegate",
        nonce=unique,
        expires_at=now + dt.timedelta(days=1),
    )
    party = AgreementParty(name="Party")
    agreement = Agreement(conference_id=conference_id, title="Matrix agreement", parties=[party])
    version = AgreementVersion(
        language="en", file_name="a.pdf", stored_name=f"a-{unique}.pdf", size=1, sha256="0" * 64
    )
    agreement.versions.append(version)
    signatory = Signatory(party=party, user_id=stranger.id, name="Stranger")
    agreement.signatories.append(signatory)
    minutes = MinutesDocument(conference_id=conference_id, revision=1)
    recording = Recording(
        conference_id=conference_id, status="stopped", directory=f"recordings/{unique}"
    )
    recording.files.append(
        RecordingFile(
            channel="floor", path=f"recordings/{unique}/floor.webm", media_type="video/webm"
        )
    )
    application = PermitApplication(
        conference_id=conference_id,
        status=permit,
        purpose="Matrix",
        format="online",
        starts_on=dt.date(2021, 10, 29),
        ends_on=dt.date(2021, 10, 29),
        content="Matrix",
        funding_source="Province",
        funding_amount=Decimal("1.00"),
        funding_currency="VND",
    )
    attachment = PermitAttachment(
        file_name="a.pdf",
        stored_name=f"p-{unique}.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    application.attachments.append(attachment)
    consultation = PermitConsultation(
        agency="Matrix agency", asked_at=now, due_on=dt.date(2021, 10, 20), remarks=""
    )
    application.consultations.append(consultation)
    db.add_all([invitation, agreement, minutes, recording, application])
    await db.flush()
    db.add(MinutesRevision(minutes_id=minutes.id, number=1, document="{}", digest="0" * 64))
    return found | {
        "invitation_id": invitation.id,
        "agreement_id": agreement.id,
        "version_id": version.id,
        "signatory_id": signatory.id,
        "recording_id": recording.id,
        "application_id": application.id,
        "attachment_id": attachment.id,
        "consultation_id": consultation.id,
    }


async def fingerprint(database: Database, world: World) -> str:
    """Every row of the foreign conference's objects (and the conference), as text: a
    cross-conference write that got through shows here even if its answer looked like a
    refusal."""
    rows: list[str] = []
    async with database.session() as db:
        for model in (Conference, *PATH_OBJECTS.values()):
            column = Conference.id if model is Conference else getattr(model, "conference_id", None)
            if column is None:
                continue
            table = model.__table__  # type: ignore[attr-defined]
            found = await db.execute(select(table).where(column == world.foreign))
            rows.extend(f"{table.name}: {tuple(row)}" for row in sorted(found.all()))
    return "\n".join(rows)
