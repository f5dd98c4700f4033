"""The shared client limiter against a real redis-server: one window for every replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.resilience.redis_rate_limiter import RedisClientRateLimiter


@pytest.fixture
async def client(redis_server: Any) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_server.url)
    yield redis
    await redis.aclose()


async def test_replicas_share_one_window_and_refusals_say_when_to_retry(client: Redis) -> None:
    import time

    one, two = RedisClientRateLimiter(client, "t:"), RedisClientRateLimiter(client, "t:")
    started = time.monotonic()
    decisions = [await (one if i % 2 else two).hit("prices", "10.0.0.1", 3) for i in range(5)]
    elapsed = time.monotonic() - started
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert all(d.limit == 3 for d in decisions)
    # the first request leaves the window 60 s after it was counted (Redis's clock, ms resolution)
    assert 60.0 - elapsed - 0.002 <= decisions[3].retry_after <= 60.0
    other = await one.hit("prices", "10.0.0.2", 3)
    assert other.allowed and other.remaining == 2  # another client has its own window
    assert (await one.hit("ohlcv", "10.0.0.1", 3)).allowed  # and another group too


async def test_refused_requests_are_not_counted(client: Redis) -> None:
    limiter = RedisClientRateLimiter(client, "t:")
    assert (await limiter.hit("ohlcv", "c", 1)).allowed
    for _ in range(3):
        assert not (await limiter.hit("ohlcv", "c", 1)).allowed
    assert await client.zcard("t:ratelimit:ohlcv:c") == 1
    assert 0 < await client.pttl("t:ratelimit:ohlcv:c") <= 60_000  # gone once the window is over


async def test_one_round_trip_per_request(client: Redis) -> None:
    limiter = RedisClientRateLimiter(client, "t:")
    await limiter.hit("prices", "warm", 100)  # loads the script
    await client.config_resetstat()
    for _ in range(5):
        await limiter.hit("prices", "c", 100)
    calls = {name: value["calls"] for name, value in (await client.info("commandstats")).items()}
    assert calls.get("cmdstat_evalsha") == 5


async def test_concurrent_requests_batched_together_each_get_their_own_decision(client: Redis) -> None:
    import asyncio

    limiter = RedisClientRateLimiter(client, "t:")
    decisions = await asyncio.gather(*(limiter.hit("prices", "burst", 10) for _ in range(25)))
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))
    assert all(d.retry_after > 59 for d in decisions if not d.allowed)
    assert await client.zcard("t:ratelimit:prices:burst") == 10


async def test_scripts_flushed_from_redis_are_loaded_again(client: Redis) -> None:
    limiter = RedisClientRateLimiter(client, "t:")
    assert (await limiter.hit("ohlcv", "c", 5)).remaining == 4
    await client.script_flush()
    assert (await limiter.hit("ohlcv", "c", 5)).remaining == 3


async def test_a_failed_batch_fails_every_request_in_it(redis_server: Any) -> None:
    import asyncio

    from redis.exceptions import ConnectionError as RedisConnectionError

    from adapters.redis_client import connection_options

    dead = Redis(host="127.0.0.1", port=1, **connection_options(0.2))  # nothing listens on port 1
    limiter = RedisClientRateLimiter(dead, "t:")
    outcomes = await asyncio.gather(*(limiter.hit("prices", "c", 5) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, RedisConnectionError) for outcome in outcomes)
    await dead.aclose()
