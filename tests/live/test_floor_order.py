"""``CONCORD_FLOOR_ORDER`` reaches the live room: the same two requests for the floor queue by
delegation precedence (the main hall first) or by request time alone (the first to ask first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.config import Config
from server.keys import LIVE_ROOMS
from server.settings import load_config
from tests.conftest import _TEST_ENVIRONMENT
from tests.live.conftest import until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
AID, MAIN_HALL, DISTRICT = 2, 3, 4


@pytest.fixture(params=["precedence", "time"])
def config(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Config:
    """The test configuration, read from the environment with ``CONCORD_FLOOR_ORDER`` set."""
    return load_config(
        environ={
            **_TEST_ENVIRONMENT,
            "CONCORD_DATA_DIR": str(tmp_path / "data"),
            "CONCORD_DATABASE_URL": database_url,
            "CONCORD_FLOOR_ORDER": request.param,
        }
    )


async def test_the_floor_queue_follows_the_configured_order(
    live: dict[str, Any], config: Config
) -> None:
    chair = await live["chair"](AID)
    room = live["client"].app[LIVE_ROOMS].get(AID)
    assert room.sites[str(MAIN_HALL)].info.main_hall
    assert not room.sites[str(DISTRICT)].info.main_hall
    district = await live["invite"](AID, DISTRICT, "district", 440)
    hall = await live["invite"](AID, MAIN_HALL, "hall", 880)
    for site in (district, hall):
        await site.start()
        assert (await chair.call("admit", {"site_id": site.site_id}))["ok"]
        await until(site.admitted.is_set, 5, f"{site.name} to be admitted")

    # The district asks first; the main hall (precedence 0) a moment later.
    assert (await district.call("floor.request"))["position"] == 1
    second = (await hall.call("floor.request"))["position"]

    by_precedence = config.floor_order == "precedence"
    expected = [MAIN_HALL, DISTRICT] if by_precedence else [DISTRICT, MAIN_HALL]
    assert second == expected.index(MAIN_HALL) + 1
    await until(
        lambda: chair.states and chair.states[-1]["floor"]["queue"] == expected,
        5,
        lambda: f"the queue {expected}, not {chair.states[-1]['floor']['queue']}",
    )
    assert chair.states[-1]["floor"]["order"] == config.floor_order
