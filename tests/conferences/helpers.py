"""A small JSON client for the scheduling API, and counting what the database holds."""

from __future__ import annotations

from typing import Any, TypedDict

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db import Database
from tests.conftest import sign_in

Client = TestClient[Any, Any]
VN, LA, PARIS = "Asia/Ho_Chi_Minh", "Asia/Vientiane", "Europe/Paris"
# The occurrences' query window (``from`` is a keyword: passed as ``**window``).
Window = TypedDict("Window", {"from": str, "to": str}, total=False)


class Api:
    """One signed-in browser: ``call`` checks the status and returns the JSON body."""

    def __init__(self, client: Client, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    @classmethod
    async def signed_in(cls, client: Client, who: str) -> Api:
        return cls(client, await sign_in(client, f"{who}@concord.example"))

    async def call(
        self, method: str, path: str, body: Any = None, expect: int = 200, **query: str
    ) -> Any:
        response = await self.client.request(
            method,
            path,
            json=body,
            params=query or None,
            headers={"X-CSRF-Token": self.csrf},
        )
        text = await response.text()
        if expect:  # 0: any status (the caller looks at the body)
            assert response.status == expect, f"{method} {path}: {response.status} {text}"
        return await response.json() if text else None

    async def conference(self, **fields: Any) -> dict[str, Any]:
        body = {
            "title": "Weekly coordination Quang Ngai - Champasak",
            "time_zone": VN,
            "starts_at": "2030-03-01T00:00:00",
            "ends_at": "2030-06-30T23:00:00",
            "kind": "online",
            "languages": [
                {"code": "vi"},
                {"code": "lo"},
                {"code": "fr", "is_floor": False},
                {"code": "vsl", "is_floor": False, "is_sign_language": True},
            ],
            **fields,
        }
        made = await self.call("POST", "/api/conferences", body, 201)
        assert isinstance(made, dict)
        return made

    async def site(self, conference_id: int, name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "time_zone": VN, **fields}
        made = await self.call("POST", f"/api/conferences/{conference_id}/sites", body, 201)
        assert isinstance(made, dict)
        return made

    async def session(self, conference_id: int, expect: int = 201, **fields: Any) -> Any:
        body = {
            "title": "Coordination",
            "starts_at": "2030-03-05T09:00:00",
            "ends_at": "2030-03-05T10:00:00",
            **fields,
        }
        return await self.call("POST", f"/api/conferences/{conference_id}/sessions", body, expect)


async def count(database: Database, model: Any) -> int:
    async with database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def field_of(problem: dict[str, Any]) -> str:
    """The field a 4xx problem names."""
    errors = problem.get("errors") or [{}]
    return str(errors[0].get("field", ""))
