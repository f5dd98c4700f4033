"""ExportCandles: a file holds every candle of the range from one provider, or the export fails
(found by review: an export Kraken could only partly reach was a 200 that looked whole)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.store.sqlite import SqliteCandleStore
from application.get_ohlcv import GetOhlcv
from application.history.candle_history import CandleHistory
from application.history.export_candles import ExportCandles
from application.history.get_ohlcv_range import GetOhlcvRange
from domain.candle_span import open_time_in_progress
from domain.errors import AllProvidersFailed, ProviderUnavailable
from domain.interval import Interval, IntervalParser
from domain.symbol import SymbolParser
from tests.history_fakes import FakeHistoryProvider
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, infrastructure

HOUR = 3_600_000
H = Interval("1h")


@dataclass
class World:
    export: ExportCandles
    binance: FakeHistoryProvider
    kraken: FakeHistoryProvider
    now_hour: int


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    infra = infrastructure(["binance", "kraken"])
    binance = FakeHistoryProvider("binance", infra.clock, page_size=100)
    kraken = FakeHistoryProvider("kraken", infra.clock, page_size=720, reach_bars=720)
    store = await SqliteCandleStore.open(str(tmp_path / "c.sqlite3"), infra.clock)
    symbols, intervals = SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS)
    latest = GetOhlcv(symbols, intervals, [binance, kraken], infra.calls, infra.read_through, 60.0)
    history = CandleHistory([binance, kraken], infra.calls, store, infra.clock)
    ranges = GetOhlcvRange(symbols, intervals, history, latest, infra.clock)
    now_hour = open_time_in_progress(H, int(infra.clock.now() * 1000))
    yield World(ExportCandles(ranges), binance, kraken, now_hour)
    await store.close()


async def exported(world: World, start: int, end: int) -> list[int]:
    export = await world.export.open("BTC", "1h", str(start), str(end))
    return [c.timestamp async for page in export.pages() for c in page.series.candles]


async def test_a_whole_range_is_exported_page_after_page(world: World) -> None:
    start = world.now_hour - 25_000 * HOUR
    assert await exported(world, start, start + 24_000 * HOUR) == [start + i * HOUR for i in range(24_000)]


async def test_a_range_partly_out_of_reach_fails_before_the_first_byte(world: World) -> None:
    world.binance.error = ProviderUnavailable("binance", "down")
    reach = world.now_hour - 719 * HOUR
    with pytest.raises(AllProvidersFailed) as caught:
        await world.export.open("BTC", "1h", str(reach - 5 * HOUR), str(world.now_hour))
    assert caught.value.failures == {
        "kraken": f"cannot give every candle of the range; missing or out of reach: [{reach - 5 * HOUR}, {reach})"
    }


async def test_a_provider_failing_part_way_is_not_mixed_with_the_next_one(world: World) -> None:
    world.binance.error = ProviderUnavailable("binance", "down")
    world.binance.fail_after = 1  # its first page of 100 only
    start = world.now_hour - 600 * HOUR
    export = await world.export.open("BTC", "1h", str(start), str(world.now_hour - 10 * HOUR))
    pages = export.pages()
    first = await anext(pages)
    assert [c.timestamp for c in first.series.candles] == [start + i * HOUR for i in range(100)]
    with pytest.raises(AllProvidersFailed) as caught:
        await anext(pages)
    assert caught.value.failures == {
        "binance": "failed part way; kraken answered the rest, not mixed into one file"
    }
