"""ReadThrough with ``fetched_since``: an entry is current when fetched at or after that moment,
whatever its TTL says (a live stream keeps the newest candles), and fetched again otherwise."""

from __future__ import annotations

from adapters.cache.memory import MemoryCache
from application.read_through import ReadThrough
from domain.errors import AllProvidersFailed
from tests.fakes import FakeClock
from tests.unit.test_read_through import STALE_TTL, T0, TTL, Fetch


def world() -> tuple[FakeClock, ReadThrough]:
    clock = FakeClock(T0)
    return clock, ReadThrough(MemoryCache(clock), clock, STALE_TTL)


async def test_an_entry_past_its_ttl_is_current_when_fetched_since_the_moment_given() -> None:
    clock, read = world()
    fetch = Fetch()
    first = await read.get("ohlcv:x", TTL, fetch)
    clock.advance(TTL * 5)
    again = await read.get("ohlcv:x", TTL, fetch, fetched_since=first.fetched_at)
    assert (fetch.calls, again.stale, again.fetched_at) == (1, False, first.fetched_at)


async def test_a_fresh_entry_fetched_before_the_moment_given_is_fetched_again() -> None:
    clock, read = world()
    fetch = Fetch()
    first = await read.get("ohlcv:x", TTL, fetch)
    clock.advance(1)
    fetch.value = "newer"
    again = await read.get("ohlcv:x", TTL, fetch, fetched_since=first.fetched_at + 0.5)
    assert (fetch.calls, again.value) == (2, "newer")
    assert again.fetched_at >= first.fetched_at + 0.5
    assert (await read.get("ohlcv:x", TTL, fetch)).value == "newer"  # and it is what is cached now


async def test_when_that_fetch_fails_the_older_entry_is_served_stale() -> None:
    clock, read = world()
    fetch = Fetch()
    first = await read.get("ohlcv:x", TTL, fetch)
    clock.advance(1)
    fetch.error = AllProvidersFailed({"binance": "down"})
    again = await read.get("ohlcv:x", TTL, fetch, fetched_since=T0 + 1)
    assert (again.value, again.stale, again.fetched_at) == ("fresh", True, first.fetched_at)
