"""Fixtures of the minutes' integration tests: signed-in editors on the demo's MoU conference,
a delegation member with an account, and the real SMTP server of the calendar tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from server.db import Database
from server.models import Delegation, DelegationMember, User
from tests.calendars.conftest import Mailbox, mail_client, mailbox, with_smtp
from tests.conftest import sign_in

__all__ = ["Mailbox", "mail_client", "mailbox", "with_smtp"]

Client = TestClient[Any, Any]
MOU = 1
API = f"/api/conferences/{MOU}/minutes"


@dataclass
class Person:
    client: Client
    csrf: str

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"headers": {"X-CSRF-Token": self.csrf}}
        if body is not None:
            kwargs["json"] = body
        response = await self.client.request(method, path, **kwargs)
        try:
            data = await response.json(content_type=None)
        except ValueError:
            data = await response.text()
        return response.status, data


async def person(client: Client, email: str) -> Person:
    own: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    return Person(own, await sign_in(own, email))


async def make_delegation_member(database: Database, email: str, conference_id: int = MOU) -> int:
    """Link ``email``'s account to the head of the conference's second delegation (Champasak
    in the MoU); the delegation's id."""
    async with database.session() as db, db.begin():
        user_id = await db.scalar(select(User.id).where(User.email == email))
        delegation = await db.scalar(
            select(Delegation)
            .where(Delegation.conference_id == conference_id)
            .order_by(Delegation.precedence.desc())
            .limit(1)
        )
        assert delegation is not None and user_id is not None
        member = await db.scalar(
            select(DelegationMember.id).where(DelegationMember.delegation_id == delegation.id)
        )
        await db.execute(
            update(DelegationMember).where(DelegationMember.id == member).values(user_id=user_id)
        )
        return delegation.id


@pytest.fixture
async def people(client: Client) -> Any:
    made: list[Person] = []

    async def make(email: str) -> Person:
        found = await person(client, email)
        made.append(found)
        return found

    yield make
    for found in made:
        await found.client.session.close()  # not .close(): the server is shared
