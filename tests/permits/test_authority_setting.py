"""``CONCORD_PERMIT_AUTHORITY``: the decision names the configured authority."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Config, load_config
from tests.conftest import _TEST_ENVIRONMENT
from tests.permits.conftest import Client, People
from tests.permits.test_decision import decided

AUTHORITY = "Sở Ngoại vụ tỉnh Champasak (test authority)"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return load_config(
        environ={
            **_TEST_ENVIRONMENT,
            "CONCORD_DATA_DIR": str(tmp_path / "data"),
            "CONCORD_DATABASE_URL": database_url,
            "CONCORD_PERMIT_AUTHORITY": AUTHORITY,
        }
    )


async def test_the_decision_names_the_configured_authority(client: Client, people: People) -> None:
    application_id = await decided(client, people, "approve", "Granted.")
    html = await (
        await client.get(f"/permits/{application_id}/decision", headers=people("admin"))
    ).text()
    assert AUTHORITY in html
