"""MemoryCache: fresh and stale windows, LRU bound, clearing and counters (with a fake clock)."""

from __future__ import annotations

import pytest

from adapters.cache.memory import MemoryCache
from tests.fakes import FakeClock

T0 = 1_700_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


async def test_a_fresh_entry_is_a_hit(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    await cache.set("k", {"price": 1}, ttl=10, stale_ttl=100)
    clock.advance(9.9)
    entry = await cache.get("k")
    assert entry is not None
    assert entry.value == {"price": 1}
    assert (entry.stored_at, entry.fresh_until, entry.stale_until) == (T0, T0 + 10, T0 + 110)
    stats = await cache.stats()
    assert (stats.hits, stats.misses) == (1, 0)


async def test_an_entry_in_its_stale_window_is_returned_but_counted_a_miss(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    await cache.set("k", "old", ttl=10, stale_ttl=100)
    clock.advance(10)  # fresh_until is exclusive
    entry = await cache.get("k")
    assert entry is not None and entry.value == "old"
    clock.advance(99)
    assert (await cache.get("k")) is not None
    stats = await cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (0, 2, 1)


async def test_an_entry_past_its_stale_window_is_gone(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    await cache.set("k", "old", ttl=10, stale_ttl=100)
    clock.advance(110)  # stale_until is exclusive too
    assert await cache.get("k") is None
    stats = await cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (0, 1, 0)


async def test_without_a_stale_window_an_entry_expires_at_its_ttl(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    await cache.set("k", "v", ttl=5, stale_ttl=0)
    clock.advance(5)
    assert await cache.get("k") is None


async def test_an_unknown_key_is_a_miss(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    assert await cache.get("nope") is None
    assert (await cache.stats()).misses == 1


async def test_setting_again_replaces_the_value_and_restarts_its_ttl(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    await cache.set("k", 1, ttl=10, stale_ttl=0)
    clock.advance(8)
    await cache.set("k", 2, ttl=10, stale_ttl=0)
    clock.advance(8)
    entry = await cache.get("k")
    assert entry is not None and entry.value == 2
    assert (await cache.stats()).size == 1


async def test_the_least_recently_used_entry_is_evicted_at_max_entries(clock: FakeClock) -> None:
    cache = MemoryCache(clock, max_entries=2)
    await cache.set("a", "A", ttl=60, stale_ttl=0)
    await cache.set("b", "B", ttl=60, stale_ttl=0)
    assert await cache.get("a") is not None  # a is now more recent than b
    await cache.set("c", "C", ttl=60, stale_ttl=0)
    assert (await cache.stats()).size == 2
    assert await cache.get("b") is None
    assert (await cache.get("a")).value == "A"  # type: ignore[union-attr]
    assert (await cache.get("c")).value == "C"  # type: ignore[union-attr]


async def test_without_reads_the_oldest_insert_is_evicted(clock: FakeClock) -> None:
    cache = MemoryCache(clock, max_entries=2)
    for key in ("a", "b", "c"):
        await cache.set(key, key, ttl=60, stale_ttl=0)
    assert await cache.get("a") is None
    assert await cache.get("b") is not None
    assert await cache.get("c") is not None


async def test_clear_removes_everything_and_says_how_many(clock: FakeClock) -> None:
    cache = MemoryCache(clock)
    for key in ("a", "b", "c"):
        await cache.set(key, key, ttl=60, stale_ttl=0)
    assert await cache.clear() == 3
    assert (await cache.stats()).size == 0
    assert await cache.get("a") is None
    assert await cache.clear() == 0


async def test_stats_report_the_hit_rate(clock: FakeClock) -> None:
    cache = MemoryCache(clock, max_entries=50)
    await cache.set("k", "v", ttl=60, stale_ttl=0)
    await cache.get("k")
    await cache.get("k")
    await cache.get("missing")
    stats = await cache.stats()
    assert stats.backend == "memory"
    assert (stats.size, stats.hits, stats.misses, stats.max_entries) == (1, 2, 1, 50)
    assert stats.hit_rate == pytest.approx(2 / 3, abs=1e-4)


async def test_hit_rate_is_zero_before_any_lookup(clock: FakeClock) -> None:
    assert (await MemoryCache(clock).stats()).hit_rate == 0.0


def test_max_entries_must_be_at_least_one(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        MemoryCache(clock, max_entries=0)
