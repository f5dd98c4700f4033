"""The Redis cache adapter against a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.cache.redis import FORMAT_VERSION, RECHECK_AFTER, RedisCache
from domain.candle import Candle, CandleSeries
from domain.interval import Interval
from domain.market import MarketOverview
from domain.quote import CombinedQuote, PriceBoard
from domain.sentiment import FearGreed, OverallSentiment, Sentiment
from domain.symbol import Symbol
from tests.fakes import FakeClock


@pytest.fixture
async def client(redis_server: Any) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_server.url)
    yield redis
    await redis.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=1_800_000_000.0)


def series() -> CandleSeries:
    candles = tuple(Candle(1_700_000_000_000 + i * 60_000, 1.5 + i, 2.5 + i, 1.0 + i, 2.0 + i, 10.25) for i in range(3))
    return CandleSeries(Symbol("BTC", "USDT"), Interval("1m"), candles, "binance")


VALUES = [
    series(),
    PriceBoard(
        (CombinedQuote("BTC", "Bitcoin", 65000.5, -1.2, 1e9, None, 1_800_000_000.0, ("coingecko", "binance"), ("coincap",)),),
        ("coingecko", "binance"),
        ("XRP",),
    ),
    Sentiment(
        FearGreed(72, "Greed", 1_799_971_200.0),
        OverallSentiment("bullish", 72, 0.86),
        (FearGreed(72, "Greed", 1_799_971_200.0), FearGreed(40, "Fear", 1_799_884_800.0)),
        "alternative_me",
    ),
    MarketOverview(2.5e12, 9.1e10, 52.3, 17.1, 15000, None, -0.8, 1_799_999_000.0, "coingecko"),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
async def test_every_cached_kind_comes_back_equal(client: Redis, clock: FakeClock, value: Any) -> None:
    cache = RedisCache(client, clock)
    await cache.set("k", value, ttl=30, stale_ttl=60)
    entry = await cache.get("k")
    assert entry is not None
    assert entry.value == value
    assert (entry.stored_at, entry.fresh_until, entry.stale_until) == (clock.now(), clock.now() + 30, clock.now() + 90)


async def test_keys_live_under_a_versioned_namespace_and_redis_expires_them(client: Redis, clock: FakeClock) -> None:
    cache = RedisCache(client, clock, namespace="cde")
    await cache.set("ohlcv:BTCUSDT:1h", series(), ttl=30, stale_ttl=60)
    keys = [key.decode() async for key in client.scan_iter(match="*")]
    assert keys == [f"cde:{FORMAT_VERSION}:cache:ohlcv:BTCUSDT:1h"]
    assert cache.prefix == f"cde:{FORMAT_VERSION}:cache:"
    ttl_ms = await client.pttl(keys[0])
    assert 89_000 < ttl_ms <= 90_000  # fresh window plus the stale window, set by Redis itself


async def test_stale_window_is_served_but_counted_a_miss_then_gone(client: Redis, clock: FakeClock) -> None:
    cache = RedisCache(client, clock)
    await cache.set("k", series(), ttl=10, stale_ttl=20)
    assert await cache.get("k") is not None
    clock.advance(15)
    stale = await cache.get("k")
    assert stale is not None and stale.fresh_until < clock.now()
    clock.advance(20)
    assert await cache.get("k") is None
    stats = await cache.stats()
    assert (stats.hits, stats.misses, stats.backend) == (1, 2, "redis")


async def test_clear_removes_only_this_services_keys(client: Redis, clock: FakeClock) -> None:
    await client.set("someone-else:key", b"keep me")
    await client.set("cde:v0:old-format", b"another version")
    cache = RedisCache(client, clock)
    for i in range(3):
        await cache.set(f"k{i}", series(), ttl=30, stale_ttl=0)
    assert (await cache.stats()).size == 3
    assert await cache.clear() == 3
    assert await client.get("someone-else:key") == b"keep me"
    assert await client.get("cde:v0:old-format") == b"another version"
    assert (await cache.stats()).size == 0


async def test_an_unreadable_entry_is_a_miss_not_an_error(client: Redis, clock: FakeClock) -> None:
    cache = RedisCache(client, clock)
    await client.set(f"{cache.prefix}k", b"\x00garbage that no version wrote")
    assert await cache.get("k") is None
    await cache.set("k", series(), ttl=30, stale_ttl=0)
    entry = await cache.get("k")
    assert entry is not None and entry.value == series()


async def test_clearing_the_cache_keeps_circuits_cool_downs_and_limits(client: Redis, clock: FakeClock) -> None:
    # The other shared state lives beside the cache in the service's namespace.
    others = [f"cde:{FORMAT_VERSION}:breaker:binance", f"cde:{FORMAT_VERSION}:cooldown:binance",
              f"cde:{FORMAT_VERSION}:limits/ohlcv"]  # fmt: skip
    for key in others:
        await client.set(key, b"state")
    cache = RedisCache(client, clock)
    await cache.set("k", series(), ttl=30, stale_ttl=0)
    assert (await cache.stats()).size == 1  # only cache entries are counted
    assert await cache.clear() == 1
    assert [await client.get(key) for key in others] == [b"state"] * len(others)


async def test_entries_are_counted_at_most_every_10_seconds(client: Redis, clock: FakeClock) -> None:
    # Health is polled often; counting means scanning the keyspace, so the count is reused.
    cache = RedisCache(client, clock)
    await cache.set("a", series(), ttl=30, stale_ttl=0)
    assert (await cache.stats()).size == 1
    await cache.set("b", series(), ttl=30, stale_ttl=0)
    clock.advance(9.9)
    assert (await cache.stats()).size == 1  # counted 9.9 s ago: not scanned again
    clock.advance(0.1)
    assert (await cache.stats()).size == 2
    await cache.set("c", series(), ttl=30, stale_ttl=0)
    assert await cache.clear() == 3
    assert (await cache.stats()).size == 0  # a clear resets the count at once
    await cache.set("d", series(), ttl=30, stale_ttl=0)
    clock.advance(10)
    assert (await cache.stats()).size == 1


async def test_hits_and_misses_are_counted_on_every_lookup(client: Redis, clock: FakeClock) -> None:
    cache = RedisCache(client, clock)
    await cache.stats()
    await cache.set("k", series(), ttl=30, stale_ttl=0)
    await cache.get("k")
    await cache.get("other")
    stats = await cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 1, 0)  # the size waits for its next count


async def _commands(client: Redis) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


async def test_a_kept_value_is_served_without_redis_then_rechecked_by_its_header_only(
    client: Redis, clock: FakeClock
) -> None:
    cache = RedisCache(client, clock)
    await cache.set("k", series(), ttl=30, stale_ttl=60)  # kept as stored: no read back
    await client.config_resetstat()
    for _ in range(5):  # within the recheck interval: Redis is not asked
        assert (await cache.get("k")).value == series()
    assert set(await _commands(client)) <= {"config|resetstat"}
    for _ in range(3):  # past it each time: one header read each, never the whole value
        clock.advance(RECHECK_AFTER)
        assert (await cache.get("k")).value == series()
    calls = await _commands(client)
    assert calls.get("getrange") == 3
    assert "get" not in calls


async def test_a_replica_serves_its_copy_of_a_value_another_replaced_for_at_most_the_recheck_interval(
    client: Redis, clock: FakeClock
) -> None:
    reader, writer = RedisCache(client, clock), RedisCache(client, clock)
    await writer.set("k", series(), ttl=30, stale_ttl=60)
    assert (await reader.get("k")).value == series()
    newer = MarketOverview(2.6e12, 9.0e10, 51.0, 17.0, 15001, None, 0.4, 1_800_000_001.0, "coingecko")
    clock.advance(0.001)  # a later write has a later header (stored_at)
    await writer.set("k", newer, ttl=30, stale_ttl=60)
    assert (await reader.get("k")).value == series()  # within the interval: its copy
    clock.advance(RECHECK_AFTER)
    assert (await reader.get("k")).value == newer
    await writer.clear()
    clock.advance(RECHECK_AFTER)
    assert await reader.get("k") is None


async def test_concurrent_lookups_of_a_value_another_replica_cleared_all_miss_quietly(
    client: Redis, clock: FakeClock
) -> None:
    import asyncio

    reader, writer = RedisCache(client, clock), RedisCache(client, clock)
    await writer.set("k", series(), ttl=30, stale_ttl=60)
    assert (await reader.get("k")).value == series()
    await writer.clear()
    clock.advance(RECHECK_AFTER)
    assert await asyncio.gather(*(reader.get("k") for _ in range(20))) == [None] * 20


async def test_a_kept_copy_past_its_freshness_is_never_served_without_asking_redis(
    client: Redis, clock: FakeClock
) -> None:
    # Another replica may have refilled it: the fill lock's waiters depend on seeing that.
    reader, writer = RedisCache(client, clock), RedisCache(client, clock)
    await writer.set("k", series(), ttl=0.1, stale_ttl=60)
    assert (await reader.get("k")).value == series()
    clock.advance(0.15)  # past its TTL, within the recheck interval
    newer = MarketOverview(2.6e12, 9.0e10, 51.0, 17.0, 15001, None, 0.4, 1_800_000_001.0, "coingecko")
    await writer.set("k", newer, ttl=30, stale_ttl=60)
    entry = await reader.get("k")
    assert entry.value == newer and entry.fresh_until > clock.now()

