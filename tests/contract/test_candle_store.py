"""The CandleStore contract, run over every adapter: SQLite (a file in a temp directory) and
PostgreSQL (a fresh database on the suite's throwaway server).

A case can close its store and open another over the same data, as a restart would.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.store.postgres import PostgresCandleStore
from adapters.store.sqlite import SqliteCandleStore
from domain.candle import Candle
from domain.candle_span import CandleSpan
from domain.interval import Interval
from domain.ports import CandleStore
from domain.stored_candle import StoredCandle
from domain.symbol import Symbol
from tests.fakes import FakeClock

H = 3_600_000
T0 = 1_700_000_000_000 // H * H  # an hour's open time
BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
HOUR, DAY = Interval("1h"), Interval("1d")


@dataclass
class StoreCase:
    """An adapter under test, its clock, and how to open another store over the same data."""

    backend: str
    clock: FakeClock
    opener: Callable[[FakeClock], Awaitable[Any]]
    opened: list[Any] = field(default_factory=list)

    async def open(self) -> Any:
        """A new store over the case's data (the first one, or one after a restart)."""
        store = await self.opener(self.clock)
        self.opened.append(store)
        return store


@pytest.fixture(params=["sqlite", "postgres"])
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    clock = FakeClock(T0 / 1000 + 1000 * 3600)  # a thousand hours after T0
    if request.param == "sqlite":
        path = str(tmp_path / "nested" / "dir" / "candles.sqlite3")  # directories made by the store
        store_case = StoreCase("sqlite", clock, lambda c: SqliteCandleStore.open(path, c))
    else:
        dsn = request.getfixturevalue("postgres_database")
        store_case = StoreCase("postgres", clock, lambda c: PostgresCandleStore.open(dsn, c))
    try:
        yield store_case
    finally:
        for store in store_case.opened:
            await store.close()


@pytest.fixture
async def store(case: StoreCase) -> Any:
    return await case.open()


def hourly(first: int, count: int, price: float = 100.0) -> list[Candle]:
    """``count`` hourly candles from the ``first``-th hour after T0."""
    return [
        Candle(T0 + (first + i) * H, price + i, price + i + 0.5, price + i - 0.5, price + i + 0.25, 10.0 + i)
        for i in range(count)
    ]


def times(stored: tuple[StoredCandle, ...]) -> list[int]:
    return [(s.candle.timestamp - T0) // H for s in stored]


def test_it_has_the_ports_methods(store: Any) -> None:
    for name, member in inspect.getmembers(CandleStore, inspect.isfunction):
        if not name.startswith("_"):
            assert inspect.iscoroutinefunction(getattr(store, name)), name
            assert inspect.signature(getattr(store, name)).parameters.keys() == (
                inspect.signature(member).parameters.keys() - {"self"}
            ), name
    assert store.name in ("sqlite", "postgres")


async def test_a_range_is_answered_oldest_first_half_open_and_limited(store: Any) -> None:
    candles = hourly(0, 10)
    assert await store.upsert("binance", BTC, HOUR, list(reversed(candles))) == 10
    got = await store.range(BTC, HOUR, T0 + 2 * H, T0 + 7 * H, 1000, "binance")
    assert got == tuple(StoredCandle("binance", c) for c in candles[2:7])  # [start, end)
    assert times(await store.range(BTC, HOUR, T0 + 2 * H + 1, T0 + 7 * H, 2, "binance")) == [3, 4]
    assert await store.range(BTC, HOUR, T0 + 20 * H, T0 + 30 * H, 1000, "binance") == ()


async def test_prices_and_volumes_come_back_bit_for_bit(store: Any) -> None:
    awkward = Candle(T0, 0.1 + 0.2, 67012.123456789012, 1e-8, 5e-324, 123456789012.34567)
    whole = Candle(T0 + H, 1.0, 2.0, 0.0, 1e300, 3.0)  # integral floats stay floats
    await store.upsert("binance", BTC, HOUR, [awkward, whole])
    got = [s.candle for s in await store.range(BTC, HOUR, T0, T0 + 2 * H, 10, "binance")]
    assert got == [awkward, whole]
    assert all(isinstance(v, float) for c in got for v in (c.open, c.high, c.low, c.close, c.volume))


async def test_storing_again_is_idempotent_and_the_newer_values_win(store: Any) -> None:
    await store.upsert("binance", BTC, HOUR, hourly(0, 5))
    await store.upsert("binance", BTC, HOUR, hourly(0, 5))
    assert times(await store.range(BTC, HOUR, T0, T0 + 10 * H, 100, "binance")) == [0, 1, 2, 3, 4]
    corrected = hourly(3, 4, price=200.0)  # two already stored (corrected), two new
    assert await store.upsert("binance", BTC, HOUR, corrected) == 4
    got = await store.range(BTC, HOUR, T0, T0 + 10 * H, 100, "binance")
    assert times(got) == [0, 1, 2, 3, 4, 5, 6]  # one duplicate never loses the batch
    assert [s.candle for s in got[3:]] == corrected


async def test_a_batch_with_one_open_time_twice_keeps_the_later_and_loses_nothing(store: Any) -> None:
    first, again = hourly(1, 1)[0], hourly(1, 1, price=300.0)[0]
    assert await store.upsert("binance", BTC, HOUR, [hourly(0, 1)[0], first, again, hourly(2, 1)[0]]) == 3
    got = await store.range(BTC, HOUR, T0, T0 + 3 * H, 10, "binance")
    assert [s.candle for s in got] == [hourly(0, 1)[0], again, hourly(2, 1)[0]]


async def test_the_candle_in_progress_is_never_stored_nor_covered(case: StoreCase, store: Any) -> None:
    case.clock._now = (T0 + 5 * H + 30 * 60_000) / 1000  # half way through the sixth hour
    written = await store.upsert("binance", BTC, HOUR, hourly(0, 7), covering=CandleSpan(T0, T0 + 7 * H))
    assert written == 5
    assert times(await store.range(BTC, HOUR, T0, T0 + 10 * H, 100, "binance")) == [0, 1, 2, 3, 4]
    assert await store.covered("binance", BTC, HOUR, T0, T0 + 10 * H) == (CandleSpan(T0, T0 + 5 * H),)


async def test_each_provider_market_and_interval_is_kept_apart(store: Any) -> None:
    await store.upsert("binance", BTC, HOUR, hourly(0, 3), covering=CandleSpan(T0, T0 + 3 * H))
    await store.upsert("kraken", BTC, HOUR, hourly(1, 3, price=50.0), covering=CandleSpan(T0 + H, T0 + 4 * H))
    await store.upsert("binance", ETH, HOUR, hourly(0, 1, price=7.0))
    await store.upsert("binance", BTC, DAY, [Candle(T0 // 86_400_000 * 86_400_000, 1, 1, 1, 1, 1)])
    assert times(await store.range(BTC, HOUR, T0, T0 + 9 * H, 100, "binance")) == [0, 1, 2]
    assert times(await store.range(BTC, HOUR, T0, T0 + 9 * H, 100, "kraken")) == [1, 2, 3]
    both = await store.range(BTC, HOUR, T0, T0 + 9 * H, 100)
    assert [(times((s,))[0], s.provider) for s in both] == [
        (0, "binance"), (1, "binance"), (1, "kraken"), (2, "binance"), (2, "kraken"), (3, "kraken"),
    ]  # fmt: skip
    assert await store.covered("kraken", BTC, HOUR, T0, T0 + 9 * H) == (CandleSpan(T0 + H, T0 + 4 * H),)
    assert await store.covered("binance", ETH, HOUR, T0, T0 + 9 * H) == ()
    assert await store.covered("binance", BTC, DAY, T0, T0 + 9 * H) == ()


async def test_covered_spans_merge_when_they_touch_or_overlap_and_are_clipped(store: Any) -> None:
    async def cover(start: int, end: int) -> None:
        await store.upsert("binance", BTC, HOUR, [], covering=CandleSpan(T0 + start * H, T0 + end * H))

    await cover(0, 10)
    await cover(20, 30)
    await cover(10, 12)  # touches
    await cover(25, 40)  # overlaps
    await cover(50, 55)
    spans = await store.covered("binance", BTC, HOUR, T0, T0 + 100 * H)
    assert spans == (CandleSpan(T0, T0 + 12 * H), CandleSpan(T0 + 20 * H, T0 + 40 * H), CandleSpan(T0 + 50 * H, T0 + 55 * H))
    assert await store.covered("binance", BTC, HOUR, T0 + 5 * H, T0 + 22 * H) == (
        CandleSpan(T0 + 5 * H, T0 + 12 * H), CandleSpan(T0 + 20 * H, T0 + 22 * H),
    )  # fmt: skip
    assert await store.covered("binance", BTC, HOUR, T0 + 12 * H, T0 + 20 * H) == ()
    await cover(5, 60)  # swallows them all
    assert await store.covered("binance", BTC, HOUR, T0, T0 + 100 * H) == (CandleSpan(T0, T0 + 60 * H),)


async def test_a_known_gap_is_a_covered_open_time_without_a_candle(store: Any) -> None:
    # The exchange had hours 0-2 and 5-6 only: the span says 3 and 4 are gaps, not unfetched.
    await store.upsert("binance", BTC, HOUR, hourly(0, 3) + hourly(5, 2), covering=CandleSpan(T0, T0 + 7 * H))
    assert times(await store.range(BTC, HOUR, T0, T0 + 7 * H, 100, "binance")) == [0, 1, 2, 5, 6]
    assert await store.covered("binance", BTC, HOUR, T0, T0 + 7 * H) == (CandleSpan(T0, T0 + 7 * H),)


async def test_candles_and_coverage_outlive_a_restart(case: StoreCase, store: Any) -> None:
    await store.upsert("binance", BTC, HOUR, hourly(0, 24), covering=CandleSpan(T0, T0 + 24 * H))
    await store.close()
    case.opened.remove(store)
    again = await case.open()  # the schema exists: opening again migrates nothing, loses nothing
    assert times(await again.range(BTC, HOUR, T0, T0 + 24 * H, 100, "binance")) == list(range(24))
    assert await again.covered("binance", BTC, HOUR, T0, T0 + 48 * H) == (CandleSpan(T0, T0 + 24 * H),)


async def test_concurrent_writes_all_land_and_their_spans_merge(store: Any) -> None:
    await asyncio.gather(*(
        store.upsert("binance", BTC, HOUR, hourly(10 * i, 10), covering=CandleSpan(T0 + 10 * i * H, T0 + 10 * (i + 1) * H))
        for i in range(20)
    ))  # fmt: skip
    assert times(await store.range(BTC, HOUR, T0, T0 + 200 * H, 1000, "binance")) == list(range(200))
    assert await store.covered("binance", BTC, HOUR, T0, T0 + 300 * H) == (CandleSpan(T0, T0 + 200 * H),)


async def test_two_stores_on_one_database_share_it(case: StoreCase, store: Any) -> None:
    # Two replicas (PostgreSQL) or two processes (the same SQLite file) see each other's writes.
    other = await case.open()
    await asyncio.gather(
        store.upsert("binance", BTC, HOUR, hourly(0, 5), covering=CandleSpan(T0, T0 + 5 * H)),
        other.upsert("binance", BTC, HOUR, hourly(5, 5), covering=CandleSpan(T0 + 5 * H, T0 + 10 * H)),
    )
    for reader in (store, other):
        assert times(await reader.range(BTC, HOUR, T0, T0 + 10 * H, 100, "binance")) == list(range(10))
        assert await reader.covered("binance", BTC, HOUR, T0, T0 + 10 * H) == (CandleSpan(T0, T0 + 10 * H),)


async def test_concurrent_spans_growing_one_span_never_collide(store: Any) -> None:
    await store.upsert("binance", BTC, HOUR, [], covering=CandleSpan(T0, T0 + 10 * H))
    written = await asyncio.gather(*(
        store.upsert("binance", BTC, HOUR, hourly(5 + i, 1), covering=CandleSpan(T0, T0 + (10 + i) * H))
        for i in range(12)
    ))  # fmt: skip
    assert written == [1] * 12  # every batch landed, none lost to a clash of merged spans
    assert await store.covered("binance", BTC, HOUR, T0, T0 + 50 * H) == (CandleSpan(T0, T0 + 21 * H),)
