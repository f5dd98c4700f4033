"""Circuits and cool-downs shared through a real redis-server, and what survives its outages."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.failover.cooldowns import FailoverCooldowns
from adapters.failover.guard import SharedBackendGuard
from adapters.redis_client import connection_options
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from adapters.resilience.purgatory_breakers import PurgatoryBreakers, redis_unit_of_work
from adapters.resilience.redis_cooldowns import RedisCooldowns
from application.provider_calls import ProviderCalls
from domain.breaker_policy import BreakerPolicy
from domain.errors import CircuitOpen, ProviderUnavailable
from tests.fakes import FakeClock

PREFIX = "cde:v1:"
RETRY_INTERVAL = 2.0


@pytest.fixture
async def client(redis_server: Any) -> AsyncIterator[Redis]:
    # As the service builds its client: bounded calls, one reconnect after a Redis restart.
    redis = Redis.from_url(redis_server.url, **connection_options(0.5))
    yield redis
    await redis.aclose()


async def stored(client: Redis, provider: str) -> float:
    """The cool-down Redis holds for ``provider``."""
    raw = await client.get(f"{PREFIX}cooldown:{provider}")
    assert raw is not None
    return float(raw)


def shared_cooldowns(client: Redis, clock: FakeClock) -> tuple[FailoverCooldowns, SharedBackendGuard]:
    """One replica's cool-downs: its own memory and guard, the shared Redis."""
    guard = SharedBackendGuard(clock, op_timeout=0.5, retry_interval=RETRY_INTERVAL)
    return FailoverCooldowns(RedisCooldowns(client, PREFIX, clock), MemoryCooldowns(), guard), guard


# -- cool-downs ------------------------------------------------------------------------


async def test_a_cool_down_seen_by_one_replica_holds_for_another(client: Redis) -> None:
    clock = FakeClock()
    first, _ = shared_cooldowns(client, clock)
    second, _ = shared_cooldowns(client, clock)
    until = clock.now() + 120
    await first.hold("binance", until)
    assert await second.until("binance") == until
    assert await stored(client, "binance") == until
    assert 119_000 < await client.pttl(f"{PREFIX}cooldown:binance") <= 120_000  # expires with it


async def test_a_long_hold_is_not_overwritten_by_a_shorter_one_from_another_replica(client: Redis) -> None:
    clock = FakeClock()
    banned, _ = shared_cooldowns(client, clock)
    limited, _ = shared_cooldowns(client, clock)
    long, short = clock.now() + 600, clock.now() + 30  # a 418 ban, then someone's 429
    await banned.hold("binance", long)
    await limited.hold("binance", short)
    assert await limited.until("binance") == long  # the later wins, even over its own hold
    fresh, _ = shared_cooldowns(client, clock)  # a replica that saw neither
    assert await fresh.until("binance") == long
    assert await client.pttl(f"{PREFIX}cooldown:binance") > 590_000


async def test_a_later_hold_extends_an_earlier_one(client: Redis) -> None:
    clock = FakeClock()
    first, _ = shared_cooldowns(client, clock)
    second, _ = shared_cooldowns(client, clock)
    short, long = clock.now() + 30, clock.now() + 600
    await first.hold("kraken", short)
    await second.hold("kraken", long)
    assert await first.until("kraken") == long


async def test_concurrent_holds_from_many_replicas_keep_the_latest(client: Redis) -> None:
    clock = FakeClock()
    now = clock.now()
    holds = [now + seconds for seconds in range(10, 510, 10)]
    random.Random(7).shuffle(holds)
    replicas = [shared_cooldowns(client, clock)[0] for _ in holds]
    await asyncio.gather(*(replica.hold("coingecko", until) for replica, until in zip(replicas, holds)))
    assert await stored(client, "coingecko") == max(holds)


async def test_a_hold_made_while_redis_is_down_is_still_honoured_after_it_returns(
    client: Redis, redis_server: Any
) -> None:
    clock = FakeClock()
    cooldowns, guard = shared_cooldowns(client, clock)
    calls = ProviderCalls(clock, 5.0, cooldowns=cooldowns)
    until = clock.now() + 600
    redis_server.stop()
    await cooldowns.hold("binance", until)  # a ban seen during the outage
    assert guard.healthy is False
    assert await cooldowns.until("binance") == until

    redis_server.start()
    clock.advance(RETRY_INTERVAL)  # past the guard's retry interval: Redis is asked again
    assert await cooldowns.until("binance") == until  # Redis knows none; this process does
    assert guard.healthy is True

    async def never() -> str:
        raise AssertionError("called during its cool-down")

    with pytest.raises(CircuitOpen):
        await calls.run("binance", never)


async def test_a_redis_outage_never_lifts_a_known_cool_down(client: Redis, redis_server: Any) -> None:
    clock = FakeClock()
    cooldowns, guard = shared_cooldowns(client, clock)
    until = clock.now() + 600
    await cooldowns.hold("binance", until)
    redis_server.stop()
    assert await cooldowns.until("binance") == until
    assert guard.healthy is False


# -- circuits --------------------------------------------------------------------------


async def fail(breakers: PurgatoryBreakers, provider: str) -> None:
    async def broken() -> None:
        raise ProviderUnavailable(provider, "HTTP 503")

    with pytest.raises(ProviderUnavailable):
        await breakers.call(provider, broken)


def on_redis(client: Redis, threshold: int, timeout: float, clock: FakeClock) -> PurgatoryBreakers:
    return PurgatoryBreakers(BreakerPolicy(threshold, timeout), clock, redis_unit_of_work(client, PREFIX))


async def test_the_current_threshold_applies_to_a_circuit_created_under_another(client: Redis) -> None:
    clock = FakeClock()
    await fail(on_redis(client, threshold=5, timeout=60, clock=clock), "binance")  # stored with threshold 5
    lowered = on_redis(client, threshold=2, timeout=60, clock=clock)  # a restart with a lower threshold
    await fail(lowered, "binance")
    assert (await lowered.state("binance")).state == "open"


async def test_the_current_timeout_applies_to_a_circuit_opened_under_another(client: Redis) -> None:
    clock = FakeClock()
    await fail(on_redis(client, threshold=1, timeout=600, clock=clock), "kraken")  # opened for 10 minutes
    shortened = on_redis(client, threshold=1, timeout=0.2, clock=clock)
    assert (await shortened.state("kraken")).state == "open"
    clock.advance(0.3)

    async def probe() -> str:
        return "answer"

    assert await shortened.call("kraken", probe) == "answer"  # let through after 0.2 s, not 600
    assert (await shortened.state("kraken")).state == "closed"


async def test_a_circuit_is_stored_as_opened_at_the_clocks_time(client: Redis) -> None:
    clock = FakeClock()  # years before the real clock: purgatory's own reading would differ
    breakers = on_redis(client, threshold=1, timeout=30, clock=clock)
    await fail(breakers, "binance")
    stored_circuit = json.loads(await client.get(f"{PREFIX}breaker:binance"))
    assert (stored_circuit["state"], stored_circuit["opened_at"]) == ("opened", clock.now())
    another_replica = on_redis(client, threshold=1, timeout=30, clock=clock)
    clock.advance(29)
    assert (await another_replica.state("binance")).state == "open"
    clock.advance(1)
    assert (await another_replica.state("binance")).state == "half_open"
