"""CandleHistory: pages of closed candles from the store, fetched upstream only where not covered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.store.off import NoCandleStore
from adapters.store.sqlite import SqliteCandleStore
from application.history.candle_history import CandleHistory
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
