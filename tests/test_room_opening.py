"""When a bridge room may be joined (server/live/opening.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.live.opening import closed_for
from server.models import ConferenceStatus as S

START = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
BEFORE = dt.timedelta(minutes=120)


@pytest.mark.parametrize("status", [S.ENDED, S.ARCHIVED, S.CANCELLED])
@pytest.mark.parametrize("chair", [False, True])
def test_a_finished_conference_is_closed_to_everyone(status: S, chair: bool) -> None:
    closed = closed_for(status, START, START, BEFORE, chair)
    assert closed is not None and closed.code == "room_closed"


@pytest.mark.parametrize("status", [S.DRAFT, S.AWAITING_APPROVAL])
def test_before_approval_only_the_chair_may_open_it(status: S) -> None:
    assert closed_for(status, START, START, BEFORE, chair=True) is None
    closed = closed_for(status, START, START, BEFORE, chair=False)
    assert closed is not None and closed.code == "room_not_open"
    assert "not approved" in closed.detail


@pytest.mark.parametrize("status", [S.APPROVED, S.SCHEDULED, S.LIVE])
def test_sites_may_join_from_the_set_time_before_the_start(status: S) -> None:
    early = START - BEFORE - dt.timedelta(minutes=1)
    closed = closed_for(status, START, early, BEFORE, chair=False)
    assert closed is not None and closed.opens_at == START - BEFORE
    assert "2026-12-06T23:00" in closed.detail
    assert closed_for(status, START, START - BEFORE, BEFORE, chair=False) is None
    assert closed_for(status, START, early, BEFORE, chair=True) is None
    naive = START.replace(tzinfo=None)  # SQLite gives naive UTC
    assert closed_for(status, naive, START, BEFORE, chair=False) is None
