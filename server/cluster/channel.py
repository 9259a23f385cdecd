"""Listening to one Redis pub/sub channel for as long as a node runs (issue 16)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio
import redis.exceptions

log = logging.getLogger(__name__)

RETRY = 2.0
"""Seconds before subscribing again after Redis stopped answering."""


async def listen(
    client: redis.asyncio.Redis,
    channel: str,
    arrive: Callable[[bytes], Awaitable[None]],
    subscribed: asyncio.Event,
) -> None:
    """Call ``arrive`` with each message's data, in order, until cancelled; ``subscribed`` is
    set while the subscription holds. Messages published while Redis was away are lost (each
    user says what that costs it)."""
    while True:
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(channel)
                subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await arrive(message["data"])
        except (OSError, redis.exceptions.RedisError) as exc:
            subscribed.clear()
            log.warning("%s: Redis does not answer (%s); retrying in %g s", channel, exc, RETRY)
            await asyncio.sleep(RETRY)
