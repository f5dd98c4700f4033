"""CandleHistory: pages of closed candles from the store, fetched upstream only where not covered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from adapters.store.off import NoCandleStore
from adapters.store.sqlite import SqliteCandleStore
from application.history.candle_history import CandleHistory
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.errors import AllProvidersFailed, ProviderUnavailable
from domain.interval import Interval
from domain.ports import CandleStore
from domain.symbol import Symbol
from tests.history_fakes import FakeHistoryProvider, candle_at
from tests.unit.world import Infrastructure, infrastructure

H = Interval("1h")
HOUR = 3_600_000
BTC = Symbol("BTC", "USDT")


@dataclass
class World:
    history: CandleHistory
    binance: FakeHistoryProvider
    kraken: FakeHistoryProvider
    infra: Infrastructure
    store: CandleStore

    def now_hour(self) -> int:
        return open_time_in_progress(H, int(self.infra.clock.now() * 1000))


def build(store: CandleStore, infra: Infrastructure | None = None) -> World:
    infra = infra or infrastructure(["binance", "kraken"])
    binance = FakeHistoryProvider("binance", infra.clock)
    kraken = FakeHistoryProvider("kraken", infra.clock, page_size=720, reach_bars=720)
    return World(CandleHistory([binance, kraken], infra.calls, store, infra.clock), binance, kraken, infra, store)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCandleStore]:
    infra = infrastructure([])
    opened = await SqliteCandleStore.open(str(tmp_path / "candles.sqlite3"), infra.clock)
    yield opened
    await opened.close()


@pytest.fixture
def world(store: SqliteCandleStore) -> World:
    return build(store)


def hours(start: int, count: int) -> list[int]:
    return [start + i * HOUR for i in range(count)]


async def test_a_range_inside_one_upstream_page_is_one_call_and_then_none(world: World) -> None:
    start = world.now_hour() - 500 * HOUR
    end = start + 200 * HOUR
    page = await world.history.page(BTC, H, start, end, 1000)
    assert [c.timestamp for c in page.series.candles] == hours(start, 200)
    assert page.series.candles[0] == candle_at(start)
    assert (page.next_ms, page.complete, page.gaps, page.series.source) == (None, True, (), "binance")
    assert world.binance.range_calls == [(start, end)]
    again = await world.history.page(BTC, H, start, end, 1000)
    assert again == page
    assert world.binance.range_calls == [(start, end)]  # the stored span costs no call


async def test_a_long_range_is_fetched_a_provider_page_per_call(world: World) -> None:
    start = world.now_hour() - 3000 * HOUR
    end = start + 2500 * HOUR
    page = await world.history.page(BTC, H, start, end, 10_000)
    assert [c.timestamp for c in page.series.candles] == hours(start, 2500)
    assert world.binance.range_calls == [(start, end), (start + 1000 * HOUR, end), (start + 2000 * HOUR, end)]


async def test_limit_pages_the_range_with_a_next_cursor(world: World) -> None:
    start = world.now_hour() - 400 * HOUR
    end = start + 250 * HOUR
    first = await world.history.page(BTC, H, start, end, 100)
    assert [c.timestamp for c in first.series.candles] == hours(start, 100)
    assert first.next_ms == start + 100 * HOUR
    assert first.gaps == ()
    second = await world.history.page(BTC, H, start + 100 * HOUR, end, 100)
    assert [c.timestamp for c in second.series.candles] == hours(start + 100 * HOUR, 100)
    third = await world.history.page(BTC, H, start + 200 * HOUR, end, 100)
    assert [c.timestamp for c in third.series.candles] == hours(start + 200 * HOUR, 50)
    assert third.next_ms is None
    assert world.binance.range_calls == [(start, end)]  # one upstream page fed all three


async def test_an_outage_is_reported_as_a_gap_never_filled(world: World) -> None:
    start = world.now_hour() - 300 * HOUR
    outage = CandleSpan(start + 10 * HOUR, start + 13 * HOUR)
    world.binance.outages.append(outage)
    page = await world.history.page(BTC, H, start, start + 20 * HOUR, 1000)
    assert [c.timestamp for c in page.series.candles] == hours(start, 10) + hours(start + 13 * HOUR, 7)
    assert page.gaps == (outage,)
    assert page.complete is True
    again = await world.history.page(BTC, H, start, start + 20 * HOUR, 1000)  # known empty: not refetched
    assert again.gaps == (outage,)
    assert len(world.binance.range_calls) == 1


async def test_a_range_older_than_the_listing_is_what_exists_and_its_gap(world: World) -> None:
    start = world.now_hour() - 300 * HOUR
    world.binance.listed_ms = start + 50 * HOUR
    page = await world.history.page(BTC, H, start, start + 60 * HOUR, 1000)
    assert [c.timestamp for c in page.series.candles] == hours(start + 50 * HOUR, 10)
    assert page.gaps == (CandleSpan(start, start + 50 * HOUR),)
    assert page.complete is True


async def test_an_unaligned_start_begins_at_the_next_open_time(world: World) -> None:
    start = world.now_hour() - 300 * HOUR
    page = await world.history.page(BTC, H, start + 1, start + 3 * HOUR, 1000)
    assert [c.timestamp for c in page.series.candles] == [start + HOUR, start + 2 * HOUR]
    assert page.gaps == ()


async def test_the_fallback_answers_what_it_can_reach_and_says_it_is_not_complete(world: World) -> None:
    world.binance.error = ProviderUnavailable("binance", "down")
    now = world.now_hour()
    start = now - 1000 * HOUR
    end = now - 100 * HOUR
    reach = now - 719 * HOUR
    page = await world.history.page(BTC, H, start, end, 10_000)
    assert page.series.source == "kraken"
    assert [c.timestamp for c in page.series.candles] == list(range(reach, end, HOUR))
    assert page.series.candles[0] == candle_at(reach, "kraken")
    assert page.complete is False
    assert page.gaps == (CandleSpan(start, reach),)
    assert page.next_ms is None


async def test_a_range_nobody_can_reach_is_all_providers_failed(world: World) -> None:
    world.binance.error = ProviderUnavailable("binance", "down", retry_after=12.0)
    now = world.now_hour()
    with pytest.raises(AllProvidersFailed) as caught:
        await world.history.page(BTC, H, now - 2000 * HOUR, now - 1000 * HOUR, 1000)
    assert caught.value.failures == {"binance": "down", "kraken": "cannot reach this range"}


async def test_a_provider_failing_part_way_ends_the_page_where_its_candles_end(world: World) -> None:
    world.binance.error = ProviderUnavailable("binance", "down")
    world.binance.fail_after = 1
    start = world.now_hour() - 3000 * HOUR
    page = await world.history.page(BTC, H, start, start + 2500 * HOUR, 10_000)
    assert page.series.source == "binance"
    assert [c.timestamp for c in page.series.candles] == hours(start, 1000)
    assert page.next_ms == start + 1000 * HOUR
    assert page.complete is True
    assert world.kraken.range_calls == []


async def test_stored_spans_survive_a_restart(tmp_path: Path) -> None:
    infra = infrastructure(["binance", "kraken"])
    path = str(tmp_path / "restart.sqlite3")
    first_store = await SqliteCandleStore.open(path, infra.clock)
    first = build(first_store, infra)
    start = first.now_hour() - 500 * HOUR
    before = await first.history.page(BTC, H, start, start + 300 * HOUR, 1000)
    await first_store.close()
    second_store = await SqliteCandleStore.open(path, infra.clock)
    second = build(second_store, infra)
    after = await second.history.page(BTC, H, start, start + 300 * HOUR, 1000)
    await second_store.close()
    assert after == before
    assert second.binance.range_calls == []


async def test_with_the_store_off_every_range_is_fetched(tmp_path: Path) -> None:
    world = build(NoCandleStore())
    start = world.now_hour() - 3000 * HOUR
    page = await world.history.page(BTC, H, start, start + 1500 * HOUR, 10_000)
    assert [c.timestamp for c in page.series.candles] == hours(start, 1500)
    await world.history.page(BTC, H, start, start + 1500 * HOUR, 10_000)
    assert len(world.binance.range_calls) == 4


async def test_the_candle_in_progress_is_never_stored(world: World) -> None:
    now = world.now_hour()
    await world.history.page(BTC, H, now - 10 * HOUR, now + HOUR, 1000)
    stored = await world.store.range(BTC, H, now - 10 * HOUR, now + HOUR, 100)
    assert [s.candle.timestamp for s in stored] == hours(now - 10 * HOUR, 10)
    assert await world.store.covered("binance", BTC, H, 0, now + HOUR) == (CandleSpan(now - 10 * HOUR, now),)


async def test_requests_for_the_same_missing_range_at_once_share_one_call(world: World) -> None:
    start = world.now_hour() - 500 * HOUR
    world.binance.delay = 0.05
    pages = await asyncio.gather(*(world.history.page(BTC, H, start, start + 100 * HOUR, 1000) for _ in range(5)))
    assert all(p == pages[0] for p in pages)
    assert len(pages[0].series.candles) == 100
    assert world.binance.range_calls == [(start, start + 100 * HOUR)]


class LaggingExchange(FakeHistoryProvider):
    """An exchange whose clock is 500 ms behind ours: just after our close, its newest candle is
    still in progress there and answered with partial values (volume 1)."""

    async def fetch_ohlcv_range(self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int) -> CandleRange:
        answer = await super().fetch_ohlcv_range(symbol, interval, start_ms, end_ms)
        theirs = open_time_in_progress(interval, int(self.clock.now() * 1000) - 500)
        candles = tuple(replace(c, volume=1.0) if c.timestamp == theirs else c for c in answer.candles)
        return CandleRange(candles, answer.covering)


async def test_a_candle_closed_a_moment_ago_is_served_but_not_kept_as_final(tmp_path: Path) -> None:
    infra = infrastructure(["binance"])
    store = await SqliteCandleStore.open(str(tmp_path / "settle.sqlite3"), infra.clock)  # on the same clock
    exchange = LaggingExchange("binance", infra.clock)
    history = CandleHistory([exchange], infra.calls, store, infra.clock)
    close = open_time_in_progress(H, int(infra.clock.now() * 1000)) + HOUR
    infra.clock.advance((close + 100) / 1000 - infra.clock.now())  # 100 ms after a close
    await history.page(BTC, H, close - 3 * HOUR, close, 1000)
    assert await store.covered("binance", BTC, H, 0, close) == (CandleSpan(close - 3 * HOUR, close - HOUR),)
    infra.clock.advance(7200)
    page = await history.page(BTC, H, close - 3 * HOUR, close, 1000)
    assert page.series.candles[-1] == candle_at(close - HOUR)  # fetched again, final this time
    await store.close()
    assert exchange.range_calls == [(close - 3 * HOUR, close), (close - HOUR, close)]


async def test_scattered_short_holes_are_fetched_in_one_page(world: World) -> None:
    start = world.now_hour() - 500 * HOUR
    for i in range(0, 300, 3):  # a live feed kept two of every three hours
        slot = start + i * HOUR
        await world.store.upsert("binance", BTC, H, [candle_at(slot + HOUR), candle_at(slot + 2 * HOUR)],
                                 CandleSpan(slot + HOUR, slot + 3 * HOUR))  # fmt: skip
    page = await world.history.page(BTC, H, start, start + 300 * HOUR, 1000)
    assert [c.timestamp for c in page.series.candles] == hours(start, 300)
    assert world.binance.range_calls == [(start, start + 300 * HOUR)]


class FailingWrites(NoCandleStore):
    """A store whose every write fails, as a locked or unreachable database would."""

    async def upsert(self, *args: object, **kwargs: object) -> int:
        raise OSError("database is locked")


async def test_a_store_that_cannot_write_still_serves_the_page() -> None:
    world = build(FailingWrites())
    start = world.now_hour() - 500 * HOUR
    page = await world.history.page(BTC, H, start, start + 20 * HOUR, 1000)
    assert [c.timestamp for c in page.series.candles] == hours(start, 20)
    assert page.complete is True
