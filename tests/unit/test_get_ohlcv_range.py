"""GetOhlcvRange: checks before any call, the candle in progress, the window feeding the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adapters.store.sqlite import SqliteCandleStore
from application.get_ohlcv import GetOhlcv
from application.history.candle_archive import CandleArchive
from application.history.candle_history import CandleHistory
from application.history.get_ohlcv_range import GetOhlcvRange
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.errors import InvalidParameter, ProviderUnavailable
from domain.interval import Interval, IntervalParser
from domain.symbol import SymbolParser
from tests.history_fakes import FakeHistoryProvider, candle_at
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, Infrastructure, infrastructure

HOUR = 3_600_000
H = Interval("1h")


@dataclass
class World:
    ranges: GetOhlcvRange
    binance: FakeHistoryProvider
    kraken: FakeHistoryProvider
    infra: Infrastructure
    store: SqliteCandleStore

    @property
    def now_ms(self) -> int:
        return int(self.infra.clock.now() * 1000)

    @property
    def in_progress(self) -> int:
        return open_time_in_progress(H, self.now_ms)

    @property
    def upstream_calls(self) -> int:
        return sum(len(p.range_calls) + p.window_calls for p in (self.binance, self.kraken))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    infra = infrastructure(["binance", "kraken"])
    infra.clock.advance(1234.5)  # not on an hour: the candle in progress is part way
    binance = FakeHistoryProvider("binance", infra.clock)
    kraken = FakeHistoryProvider("kraken", infra.clock, page_size=720, reach_bars=720)
    store = await SqliteCandleStore.open(str(tmp_path / "c.sqlite3"), infra.clock)
    symbols, intervals = SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS)
    archive = CandleArchive(store, infra.clock)
    latest = GetOhlcv(symbols, intervals, [binance, kraken], infra.calls, infra.read_through, 60.0, archive=archive)
    history = CandleHistory([binance, kraken], infra.calls, store, infra.clock)
    yield World(GetOhlcvRange(symbols, intervals, history, latest, infra.clock), binance, kraken, infra, store)
    await store.close()


@pytest.mark.parametrize(
    ("start", "end", "limit", "field"),
    [
        ("1700000000000", "1690000000000", None, "start"),  # after end
        ("1700000000000", "1700000000000", None, "start"),  # empty
        ("9999999999999", None, None, "start"),  # in the future
        ("yesterday", None, None, "start"),
        ("2024-13-01", None, None, "start"),
        ("1690000000000", "soon", None, "end"),
        (None, None, None, "start"),
        ("1690000000000", None, 0, "limit"),
        ("1690000000000", None, 10_001, "limit"),
    ],
)
async def test_bad_input_is_invalid_before_any_call(
    world: World, start: str | None, end: str | None, limit: int | None, field: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        await world.ranges.execute("BTC", "1h", start, end, limit)
    assert caught.value.field == field
    assert world.upstream_calls == 0


async def test_iso_times_name_the_same_range_as_epoch_ms(world: World) -> None:
    start = world.in_progress - 50 * HOUR
    by_ms = await world.ranges.execute("BTC", "1h", str(start), str(start + 5 * HOUR), None)
    iso = datetime.fromtimestamp(start / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    by_iso = await world.ranges.execute("BTC", "1h", iso, str(start + 5 * HOUR), None)
    assert by_iso.value == by_ms.value
    assert [c.timestamp for c in by_ms.value.series.candles] == [start + i * HOUR for i in range(5)]


async def test_an_open_range_ends_with_the_candle_in_progress_from_the_window(world: World) -> None:
    start = world.in_progress - 100 * HOUR
    served = await world.ranges.execute("BTC", "1h", str(start), None, None)
    page = served.value
    assert [c.timestamp for c in page.series.candles] == [start + i * HOUR for i in range(101)]
    assert page.series.candles[-1] == candle_at(world.in_progress)
    assert (page.next_ms, page.complete, page.gaps) == (None, True, ())
    assert (world.binance.window_calls, world.binance.range_calls) == (1, [])  # the window fed the store


async def test_a_year_to_now_costs_nine_upstream_calls(world: World) -> None:
    start = world.in_progress - 8760 * HOUR
    served = await world.ranges.execute("BTC", "1h", str(start), None, 10_000)
    assert len(served.value.series.candles) == 8761
    assert world.upstream_calls == 9
    again = await world.ranges.execute("BTC", "1h", str(start), None, 10_000)
    assert again.value.series.candles == served.value.series.candles
    assert world.upstream_calls == 9  # closed candles stored, the window cached


async def test_a_past_year_costs_nine_upstream_calls(world: World) -> None:
    end = world.in_progress - 2000 * HOUR
    served = await world.ranges.execute("BTC", "1h", str(end - 8760 * HOUR), str(end), 10_000)
    assert len(served.value.series.candles) == 8760
    assert (world.binance.window_calls, len(world.binance.range_calls)) == (0, 9)


async def test_a_full_page_before_the_candle_in_progress_points_to_it(world: World) -> None:
    start = world.in_progress - 10 * HOUR
    page = (await world.ranges.execute("BTC", "1h", str(start), None, 10)).value
    assert len(page.series.candles) == 10
    assert page.next_ms == world.in_progress
    last = (await world.ranges.execute("BTC", "1h", str(page.next_ms), None, 10)).value
    assert [c.timestamp for c in last.series.candles] == [world.in_progress]
    assert last.next_ms is None


async def test_no_window_to_be_had_means_no_candle_in_progress_and_not_complete(world: World) -> None:
    start = world.in_progress - 10 * HOUR
    await world.ranges.execute("BTC", "1h", str(start), str(world.in_progress), None)  # stored
    world.binance.error = world.kraken.error = ProviderUnavailable("x", "down")
    page = (await world.ranges.execute("BTC", "1h", str(start), None, None)).value
    assert [c.timestamp for c in page.series.candles] == [start + i * HOUR for i in range(10)]
    assert page.complete is False
    assert page.gaps == (CandleSpan(world.in_progress, world.now_ms + 1),)  # the range ends at now


async def test_the_missing_candle_in_progress_is_a_gap_no_longer_than_the_range(world: World) -> None:
    start = world.in_progress - 3 * HOUR
    world.binance.window_error = world.kraken.window_error = ProviderUnavailable("x", "down")
    page = (await world.ranges.execute("BTC", "1h", str(start), str(world.in_progress + 1), None)).value
    assert [c.timestamp for c in page.series.candles] == [start + i * HOUR for i in range(3)]
    assert page.gaps == (CandleSpan(world.in_progress, world.in_progress + 1),)


async def test_a_start_inside_the_candle_in_progress_is_an_empty_range(world: World) -> None:
    page = (await world.ranges.execute("BTC", "1h", str(world.in_progress + 1), None, None)).value
    assert page.series.candles == ()
    assert (page.next_ms, page.complete, page.gaps) == (None, True, ())
