"""The permit procedure's settings take effect: the deadline's length, the holidays and the
time zone move the due date of the same submission, and the decision names the authority."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from server.config import Config
from server.permits.clock import Procedure
from server.settings import load_config
from tests.conftest import _TEST_ENVIRONMENT
from tests.permits.conftest import Client, People
from tests.permits.test_decision import decided

AUTHORITY = "Sở Ngoại vụ tỉnh Champasak (test authority)"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def configured(tmp_path: Path, database_url: str, **settings: str) -> Config:
    return load_config(
        environ={
            **_TEST_ENVIRONMENT,
            "CONCORD_DATA_DIR": str(tmp_path / "data"),
            "CONCORD_DATABASE_URL": database_url,
            **settings,
        }
    )


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return configured(tmp_path, database_url, CONCORD_PERMIT_AUTHORITY=AUTHORITY)


def test_the_deadline_settings_move_the_due_date(tmp_path: Path, database_url: str) -> None:
    def due(at: dt.datetime, **settings: str) -> dt.date:
        config = configured(tmp_path, database_url, **settings)
        return Procedure.from_config(config).due_on(at)

    monday = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)  # 09:00 in Viet Nam
    none = {"CONCORD_PERMIT_HOLIDAYS": ""}
    assert due(monday, **none) == dt.date(2027, 3, 22)  # 15 working days
    ten = {**none, "CONCORD_PERMIT_DEADLINE_WORKING_DAYS": "10"}
    assert due(monday, **ten) == dt.date(2027, 3, 15)
    holiday = {**ten, "CONCORD_PERMIT_HOLIDAYS": "2027-03-10"}
    assert due(monday, **holiday) == dt.date(2027, 3, 16)
    # Thursday 23:30 UTC is already Friday in Viet Nam: received a working day later there.
    thursday_night = dt.datetime(2027, 3, 4, 23, 30, tzinfo=dt.UTC)
    in_utc = due(thursday_night, **ten, CONCORD_PERMIT_TIME_ZONE="UTC")
    in_viet_nam = due(thursday_night, **ten)
    assert in_utc < in_viet_nam


async def test_the_decision_names_the_configured_authority(client: Client, people: People) -> None:
    application_id = await decided(client, people, "approve", "Granted.")
    html = await (
        await client.get(f"/permits/{application_id}/decision", headers=people("admin"))
    ).text()
    assert AUTHORITY in html
