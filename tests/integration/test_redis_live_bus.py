"""The Redis event bus against a real redis-server: what it does beyond the EventBus contract
(an unreadable message is skipped, the subscription comes back after a Redis restart)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.live.redis_bus import RedisEventBus
from adapters.redis_client import redis_client
from domain.live import StreamStatus

PREFIX = "cde:v1:"
STATUS = StreamStatus("binance", "connected", 3, 1_716_528_034.5, 1)


@pytest.fixture
async def client(redis_server: Any) -> AsyncIterator[Redis]:
    async with asynccontextmanager(redis_client)(redis_server.url, 0.5) as redis:
        yield redis


async def test_an_unreadable_message_is_skipped_and_the_next_one_delivered(client: Redis) -> None:
    bus = RedisEventBus(client, PREFIX)
    await bus.start()
    try:
        listener = bus.listen()
        await client.publish(bus.channel, b'{"kind":"candle","symbol":["BTC"]}')
        await client.publish(bus.channel, b"not json")
        await bus.publish(STATUS)
        async with asyncio.timeout(3):
            assert await anext(listener) == STATUS
        assert bus.unreadable == 2
    finally:
        await bus.stop()


async def test_the_subscription_comes_back_after_redis_restarts(client: Redis, redis_server: Any) -> None:
    bus = RedisEventBus(client, PREFIX, retry=0.05)
    await bus.start()
    try:
        listener = bus.listen()
        redis_server.stop()
        await asyncio.sleep(0.2)
        redis_server.start()
        received = asyncio.ensure_future(anext(listener))
        async with asyncio.timeout(5):
            while not received.done():  # published until the subscription is back
                with contextlib.suppress(Exception):  # Redis still coming back
                    await bus.publish(STATUS)
                await asyncio.sleep(0.05)
        assert received.result() == STATUS
    finally:
        await bus.stop()


async def test_stopping_the_bus_ends_every_listener(client: Redis) -> None:
    bus = RedisEventBus(client, PREFIX)
    await bus.start()
    listener = bus.listen()
    pending = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(0)
    await bus.stop()
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(2):
            await pending
