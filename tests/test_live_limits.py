"""The bridge room's rate limits and the admin's changes to a user, without a server."""

from __future__ import annotations

import pytest

from server.identity import GuestScope, Identity
from server.live.limits import Limits, Rate, identity_key
from server.models import Role


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limits = Limits({"chat": Rate(2, 4)}, clock=clock)
    assert [limits.take("chat", "user:1") for _ in range(5)] == [True] * 4 + [False]
    clock.now += 0.5
    assert limits.take("chat", "user:1") and not limits.take("chat", "user:1")
    assert limits.take("chat", "user:2"), "another identity has its own allowance"


def test_every_key_must_have_a_token_and_none_is_spent_on_refusal() -> None:
    clock = Clock()
    limits = Limits({"chat": Rate(1, 2)}, clock=clock)
    assert limits.take("chat", "user:1", "site:1:2")
    assert limits.take("chat", "user:1", "site:1:2")
    assert not limits.take("chat", "user:3", "site:1:2"), "the site's allowance is spent"
    assert limits.take("chat", "user:3"), "the refusal above spent nothing of user 3's"


def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limits = Limits({"events": Rate(20, 40)}, clock=clock, prune_every=60)
    for n in range(1000):
        limits.take("events", f"user:{n}")
    assert len(limits) == 1000
    clock.now += 61
    limits.take("events", "user:x")
    assert len(limits) == 1


@pytest.mark.parametrize(
    ("who", "key"),
    [
        (Identity(via="cookie", user_id=7, session_id=3), "user:7"),
        (Identity(via="bearer", user_id=7, token_id=2), "user:7"),
        (
            Identity(via="guest", session_id=9, guest=GuestScope(4, 1, 2, Role.DELEGATE)),
            "invitation:4",
        ),
    ],
)
def test_limits_follow_the_person_not_the_connection(who: Identity, key: str) -> None:
    assert identity_key(who) == key
