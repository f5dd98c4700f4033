"""The Cache contract: fresh and stale windows, expiry, clearing and counters.

Every backend runs the same tests through the ``cache_case`` fixture. To add one (Redis), add
its id to the fixture's ``params`` and a branch that builds it on the given ``FakeClock``
(skip when the server is unreachable); use domain values only, as a shared backend must
encode them. The failover wrapper (Redis with the in-process cache behind it) keeps the
contract with Redis up and with Redis out.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.cache.memory import MemoryCache
from adapters.cache.redis import RedisCache
from adapters.failover.cache import FailoverCache
from domain.candle import Candle, CandleSeries
from domain.interval import Interval
from domain.market import MarketOverview
from domain.ports import Cache
from domain.symbol import Symbol
from tests.contract.shared_state import BACKENDS, redis_for, standing_guard
from tests.fakes import FakeClock

T0 = 1_700_000_000.0
TTL = 30.0
STALE = 300.0


@dataclass
class CacheCase:
    """A backend under test and the clock it reads."""

    backend: str
    cache: Any
    clock: FakeClock


@pytest.fixture(params=BACKENDS)
async def cache_case(request: pytest.FixtureRequest) -> AsyncIterator[CacheCase]:
    clock = FakeClock(T0)
    if request.param == "memory":
        yield CacheCase("memory", MemoryCache(clock), clock)
        return
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")  # a real redis-server, emptied
        client = Redis.from_url(server.url)
        try:
            yield CacheCase("redis", RedisCache(client, clock), clock)
        finally:
            await client.aclose()
        return
    if request.param in ("failover", "failover-redis-down"):
        async with redis_for(request, request.param) as client:
            failover = FailoverCache(RedisCache(client, clock), MemoryCache(clock), standing_guard(clock))
            yield CacheCase("redis", failover, clock)  # named as its primary, whichever serves
        return
    raise AssertionError(f"no cache backend {request.param!r}")  # pragma: no cover


SERIES = CandleSeries(
    Symbol("BTC", "USDT"),
    Interval("1h"),
    (
        Candle(1_700_000_000_000, 1.0, 2.0, 0.5, 1.5, 10.0),
        Candle(1_700_003_600_000, 1.5, 2.5, 1.0, 2.0, 12.0),
    ),
    "binance",
)
OVERVIEW = MarketOverview(2.5e12, 9e10, 52.1, 17.3, 12000, 900, -1.2, T0, "coingecko")


def test_it_has_the_cache_ports_methods(cache_case: CacheCase) -> None:
    # Cache is not runtime_checkable: check its shape by hand.
    for method in ("get", "set", "clear", "stats"):
        assert inspect.iscoroutinefunction(getattr(cache_case.cache, method)), method
        assert hasattr(Cache, method)


@pytest.mark.parametrize("value", [SERIES, OVERVIEW], ids=["series", "overview"])
async def test_get_after_set_returns_the_value_with_its_windows(cache_case: CacheCase, value: Any) -> None:
    await cache_case.cache.set("k", value, ttl=TTL, stale_ttl=STALE)
    entry = await cache_case.cache.get("k")
    assert entry is not None
    assert entry.value == value
    assert (entry.stored_at, entry.fresh_until, entry.stale_until) == (T0, T0 + TTL, T0 + TTL + STALE)


async def test_fresh_until_the_ttl_then_stale_until_the_stale_window_ends(cache_case: CacheCase) -> None:
    cache, clock = cache_case.cache, cache_case.clock
    await cache.set("k", SERIES, ttl=TTL, stale_ttl=STALE)

    clock.advance(TTL - 0.001)
    fresh = await cache.get("k")
    assert fresh is not None and fresh.fresh_until > clock.now()

    clock.advance(0.001)  # exactly at the TTL: no longer fresh, still servable
    stale = await cache.get("k")
    assert stale is not None and stale.value == SERIES
    assert stale.fresh_until <= clock.now() < stale.stale_until

    clock.advance(STALE - 0.001)
    assert await cache.get("k") is not None

    clock.advance(0.001)  # the stale window is over
    assert await cache.get("k") is None


async def test_without_a_stale_window_it_expires_at_the_ttl(cache_case: CacheCase) -> None:
    await cache_case.cache.set("k", OVERVIEW, ttl=TTL, stale_ttl=0)
    cache_case.clock.advance(TTL)
    assert await cache_case.cache.get("k") is None


async def test_an_unknown_key_is_none(cache_case: CacheCase) -> None:
    assert await cache_case.cache.get("never-set") is None


async def test_setting_again_replaces_the_value_and_restarts_its_windows(cache_case: CacheCase) -> None:
    cache, clock = cache_case.cache, cache_case.clock
    await cache.set("k", SERIES, ttl=TTL, stale_ttl=STALE)
    clock.advance(TTL + 1)
    await cache.set("k", OVERVIEW, ttl=TTL, stale_ttl=STALE)
    entry = await cache.get("k")
    assert entry is not None and entry.value == OVERVIEW
    assert entry.fresh_until == T0 + TTL + 1 + TTL > clock.now()


async def test_keys_are_independent(cache_case: CacheCase) -> None:
    await cache_case.cache.set("a", SERIES, ttl=TTL, stale_ttl=STALE)
    await cache_case.cache.set("b", OVERVIEW, ttl=TTL, stale_ttl=STALE)
    a, b = await cache_case.cache.get("a"), await cache_case.cache.get("b")
    assert a is not None and b is not None and (a.value, b.value) == (SERIES, OVERVIEW)


async def test_clear_removes_everything_and_says_how_much(cache_case: CacheCase) -> None:
    cache = cache_case.cache
    for key in ("a", "b", "c"):
        await cache.set(key, SERIES, ttl=TTL, stale_ttl=STALE)
    assert await cache.clear() == 3
    assert [await cache.get(key) for key in ("a", "b", "c")] == [None, None, None]
    assert (await cache.stats()).size == 0
    assert await cache.clear() == 0


async def test_stats_count_fresh_hits_and_everything_else_as_misses(cache_case: CacheCase) -> None:
    cache, clock = cache_case.cache, cache_case.clock
    await cache.set("k", SERIES, ttl=TTL, stale_ttl=STALE)
    await cache.set("j", OVERVIEW, ttl=TTL, stale_ttl=STALE)
    await cache.get("k")  # hit
    await cache.get("j")  # hit
    await cache.get("nope")  # miss
    clock.advance(TTL)
    await cache.get("k")  # stale: served, but not a fresh answer -> miss

    stats = await cache.stats()
    assert (stats.hits, stats.misses) == (2, 2)
    assert stats.hit_rate == 0.5
    assert stats.size == 2
    assert stats.backend == cache_case.backend


async def test_stats_start_at_zero(cache_case: CacheCase) -> None:
    stats = await cache_case.cache.stats()
    assert (stats.hits, stats.misses, stats.size, stats.hit_rate) == (0, 0, 0, 0.0)


async def test_set_returns_the_entry_get_then_gives(cache_case: CacheCase) -> None:
    stored = await cache_case.cache.set("k", "v", TTL, STALE)
    assert (stored.value, stored.stored_at) == ("v", T0)
    assert (stored.fresh_until, stored.stale_until) == (T0 + TTL, T0 + TTL + STALE)
    assert await cache_case.cache.get("k") == stored


async def test_writes_on_a_clock_that_has_not_moved_never_share_a_stamp(cache_case: CacheCase) -> None:
    """The write stamp identifies an entry (the answer memo keeps bodies by it): a later write
    is stamped later even when the clock stands still, across a clear too."""
    cache = cache_case.cache
    first = await cache.set("k", "one", TTL, STALE)
    second = await cache.set("k", "two", TTL, STALE)
    await cache.clear()
    third = await cache.set("k", "three", TTL, STALE)
    assert first.stored_at == T0  # the clock's own time while it moves
    assert first.stored_at < second.stored_at < third.stored_at <= T0 + 0.001
    assert await cache.get("k") == third
