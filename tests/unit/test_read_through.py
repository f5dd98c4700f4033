"""ReadThrough: fresh hits, single-flight fetches, stale-if-error, failures never cached."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from adapters.cache.memory import MemoryCache
from application.read_through import ReadThrough
from application.served import Served
from domain.errors import AllProvidersFailed
from domain.ports import CacheEntry, CacheStats
from tests.fakes import FakeClock

T0 = 1_700_000_000.0
TTL = 10.0
STALE_TTL = 100.0


@dataclass
class Fetch:
    """A fetch function that counts its calls; it can be held on a gate or made to fail."""

    value: object = "fresh"
    error: BaseException | None = None
    gate: asyncio.Event | None = None
    calls: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self) -> object:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


@dataclass
class World:
    clock: FakeClock
    cache: MemoryCache
    read_through: ReadThrough


@pytest.fixture
def world() -> World:
    clock = FakeClock(T0)
    cache = MemoryCache(clock)
    return World(clock, cache, ReadThrough(cache, clock, STALE_TTL))


async def settle(condition, rounds: int = 1000) -> None:  # type: ignore[no-untyped-def]
    """Let the event loop run until ``condition()`` holds (no wall-clock waiting)."""
    for _ in range(rounds):
        if await condition():
            return
        await asyncio.sleep(0)
    pytest.fail("the condition never held")


async def test_a_miss_fetches_and_stores(world: World) -> None:
    fetch = Fetch("v1")
    served = await world.read_through.get("k", TTL, fetch)
    assert served == Served("v1", stale=False, fetched_at=T0)
    assert fetch.calls == 1
    entry = await world.cache.get("k")
    assert entry is not None
    assert entry.value == "v1"
    assert entry.fresh_until == T0 + TTL
    assert entry.stale_until == T0 + TTL + STALE_TTL


async def test_a_fresh_hit_makes_no_fetch(world: World) -> None:
    await world.cache.set("k", "cached", ttl=TTL, stale_ttl=STALE_TTL)
    world.clock.advance(TTL - 1)
    fetch = Fetch("new")
    served = await world.read_through.get("k", TTL, fetch)
    assert served == Served("cached", stale=False, fetched_at=T0)
    assert fetch.calls == 0


async def test_once_past_its_ttl_the_value_is_fetched_again(world: World) -> None:
    await world.read_through.get("k", TTL, Fetch("v1"))
    world.clock.advance(TTL)
    fetch = Fetch("v2")
    served = await world.read_through.get("k", TTL, fetch)
    assert served == Served("v2", stale=False, fetched_at=T0 + TTL)
    assert fetch.calls == 1


async def test_300_concurrent_cold_gets_make_exactly_one_fetch(world: World) -> None:
    fetch = Fetch("shared", gate=asyncio.Event())
    callers = [asyncio.create_task(world.read_through.get("k", TTL, fetch)) for _ in range(300)]

    async def all_joined() -> bool:  # every caller has looked in the cache and found nothing
        return fetch.started.is_set() and (await world.cache.stats()).misses == 300

    await settle(all_joined)
    assert fetch.gate is not None
    fetch.gate.set()
    results = await asyncio.gather(*callers)
    assert fetch.calls == 1
    assert all(r == Served("shared", stale=False, fetched_at=T0) for r in results)


async def test_single_flight_is_per_key(world: World) -> None:
    gate = asyncio.Event()
    fetch_a, fetch_b = Fetch("A", gate=gate), Fetch("B", gate=gate)
    a = asyncio.create_task(world.read_through.get("a", TTL, fetch_a))
    b = asyncio.create_task(world.read_through.get("b", TTL, fetch_b))

    async def both_started() -> bool:
        return fetch_a.started.is_set() and fetch_b.started.is_set()

    await settle(both_started)
    gate.set()
    assert [s.value for s in await asyncio.gather(a, b)] == ["A", "B"]
    assert (fetch_a.calls, fetch_b.calls) == (1, 1)


async def test_every_waiter_of_a_failed_fetch_gets_the_failure(world: World) -> None:
    fetch = Fetch(error=AllProvidersFailed({"binance": "HTTP 503"}), gate=asyncio.Event())
    callers = [asyncio.create_task(world.read_through.get("k", TTL, fetch)) for _ in range(5)]
    await settle(lambda: _true_when(fetch.started.is_set()))
    assert fetch.gate is not None
    fetch.gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert fetch.calls == 1
    assert all(isinstance(r, AllProvidersFailed) for r in results)


async def _true_when(value: bool) -> bool:
    return value


async def test_failures_are_not_cached(world: World) -> None:
    failing = Fetch(error=AllProvidersFailed({"binance": "HTTP 503"}))
    with pytest.raises(AllProvidersFailed):
        await world.read_through.get("k", TTL, failing)
    with pytest.raises(AllProvidersFailed):
        await world.read_through.get("k", TTL, failing)
    assert failing.calls == 2
    working = Fetch("recovered")
    assert (await world.read_through.get("k", TTL, working)).value == "recovered"
    assert working.calls == 1


async def test_when_every_provider_fails_a_stale_copy_is_served_marked_stale(world: World) -> None:
    await world.read_through.get("k", TTL, Fetch("old"))
    world.clock.advance(TTL + 50)
    failing = Fetch(error=AllProvidersFailed({"binance": "HTTP 503"}))
    served = await world.read_through.get("k", TTL, failing)
    assert served == Served("old", stale=True, fetched_at=T0)
    assert failing.calls == 1


async def test_a_stale_copy_is_not_made_fresh_again_by_serving_it(world: World) -> None:
    await world.read_through.get("k", TTL, Fetch("old"))
    world.clock.advance(TTL + 1)
    failing = Fetch(error=AllProvidersFailed({"binance": "HTTP 503"}))
    await world.read_through.get("k", TTL, failing)
    await world.read_through.get("k", TTL, failing)
    assert failing.calls == 2  # the second request tried upstream again


async def test_without_a_stale_copy_the_failure_is_re_raised(world: World) -> None:
    await world.read_through.get("k", TTL, Fetch("old"))
    world.clock.advance(TTL + STALE_TTL)  # past the stale window
    failure = AllProvidersFailed({"binance": "HTTP 503", "kraken": "timeout"}, retry_after=30)
    with pytest.raises(AllProvidersFailed) as caught:
        await world.read_through.get("k", TTL, Fetch(error=failure))
    assert caught.value.failures == {"binance": "HTTP 503", "kraken": "timeout"}
    assert caught.value.retry_after == 30


async def test_a_bug_in_the_fetch_is_not_hidden_behind_a_stale_copy(world: World) -> None:
    await world.read_through.get("k", TTL, Fetch("old"))
    world.clock.advance(TTL + 1)
    with pytest.raises(RuntimeError):
        await world.read_through.get("k", TTL, Fetch(error=RuntimeError("bug")))


async def test_a_cancelled_waiter_does_not_cancel_the_fetch_for_the_others(world: World) -> None:
    fetch = Fetch("shared", gate=asyncio.Event())
    first = asyncio.create_task(world.read_through.get("k", TTL, fetch))  # starts the fetch
    second = asyncio.create_task(world.read_through.get("k", TTL, fetch))

    async def both_joined() -> bool:
        return fetch.started.is_set() and (await world.cache.stats()).misses == 2

    await settle(both_joined)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert fetch.gate is not None
    fetch.gate.set()
    assert await second == Served("shared", stale=False, fetched_at=T0)
    assert fetch.calls == 1


async def test_when_every_waiter_goes_away_the_fetch_still_fills_the_cache(world: World) -> None:
    fetch = Fetch("late", gate=asyncio.Event())
    caller = asyncio.create_task(world.read_through.get("k", TTL, fetch))
    await settle(lambda: _true_when(fetch.started.is_set()))
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert fetch.gate is not None
    fetch.gate.set()

    async def stored() -> bool:
        return (await world.cache.stats()).size == 1

    await settle(stored)
    again = Fetch("unused")
    assert (await world.read_through.get("k", TTL, again)).value == "late"
    assert again.calls == 0


class _LateFiller:
    """FillLocks whose lock is free, but another replica filled the key just before we took it."""

    def __init__(self, cache: MemoryCache) -> None:
        self.cache = cache
        self.released: list[str] = []

    async def try_acquire(self, key: str, ttl: float) -> bool:
        await self.cache.set(key, "filled elsewhere", ttl=30, stale_ttl=0)
        return True

    async def release(self, key: str) -> None:
        self.released.append(key)


async def test_a_value_filled_elsewhere_before_the_lock_was_taken_is_served_without_a_fetch() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock)
    locks = _LateFiller(cache)
    read_through = ReadThrough(cache, clock, stale_ttl=60, fill_locks=locks)
    fetches: list[int] = []

    async def fetch() -> str:
        fetches.append(1)
        return "fetched here"

    served = await read_through.get("k", 30, fetch)
    assert served.value == "filled elsewhere"
    assert fetches == []
    assert locks.released == ["k"]


class KeepsEverythingCache:
    """Implements the Cache port but never expires anything, as a shared store whose own key
    TTL outlives the stale window might: the stale window is ReadThrough's to enforce."""

    def __init__(self) -> None:
        self.entries: dict[str, CacheEntry] = {}

    async def get(self, key: str) -> CacheEntry | None:
        return self.entries.get(key)

    async def set(self, key: str, value: object, ttl: float, stale_ttl: float) -> CacheEntry:
        raise AssertionError("nothing is stored when every provider fails")

    async def clear(self) -> int:
        removed, self.entries = len(self.entries), {}
        return removed

    async def stats(self) -> CacheStats:
        return CacheStats("keeps-everything", len(self.entries), 0, 0, None)


@pytest.mark.parametrize(
    ("stale_until", "served"),
    [(T0 + 1, True), (T0, False), (T0 - 1, False)],
    ids=["inside-the-stale-window", "at-its-end", "past-it"],
)
async def test_a_copy_past_its_stale_window_is_never_served_even_if_the_cache_returns_it(
    stale_until: float, served: bool
) -> None:
    clock, cache = FakeClock(T0), KeepsEverythingCache()
    cache.entries["ohlcv:BTC"] = CacheEntry("old", stored_at=T0 - 500, fresh_until=T0 - 400, stale_until=stale_until)
    read_through = ReadThrough(cache, clock, STALE_TTL)
    failing = Fetch(error=AllProvidersFailed({"binance": "down"}))
    if served:
        assert await read_through.get("ohlcv:BTC", TTL, failing) == Served("old", stale=True, fetched_at=T0 - 500)
    else:
        with pytest.raises(AllProvidersFailed):
            await read_through.get("ohlcv:BTC", TTL, failing)
    assert failing.calls == 1
