"""The candle store keeps being fed: the windows GetOhlcv fetches and the live closed candles."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from adapters.store.sqlite import SqliteCandleStore
from application.get_ohlcv import GetOhlcv
from application.history.candle_archive import CandleArchive
from application.history.candle_history import CandleHistory
from application.live.closed_candles import ClosedCandleQueue
from application.live.fanout import LiveFanout
from domain.candle import MAX_CANDLES, Candle
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.interval import Interval, IntervalParser
from domain.symbol import Symbol, SymbolParser
from tests.history_fakes import FakeHistoryProvider, candle_at
from tests.unit.fanout_world import BTC, MINUTE_MS, NOW, ONE_MINUTE, OPEN_MS, candle_event, final, live_world
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, Infrastructure, infrastructure

H = Interval("1h")
HOUR = 3_600_000
FAR = 10**14


@pytest.fixture
def infra() -> Infrastructure:
    return infrastructure(["binance", "kraken"])


@pytest.fixture
async def store(tmp_path: Path, infra: Infrastructure) -> AsyncIterator[SqliteCandleStore]:
    opened = await SqliteCandleStore.open(str(tmp_path / "candles.sqlite3"), infra.clock)
    yield opened
    await opened.close()


def get_ohlcv(infra: Infrastructure, provider: FakeHistoryProvider, archive: CandleArchive) -> GetOhlcv:
    return GetOhlcv(
        SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS), [provider],
        infra.calls, infra.read_through, 300.0, archive=archive,
    )  # fmt: skip


def set_clock(infra: Infrastructure, at_ms: int) -> None:
    infra.clock.advance(at_ms / 1000 - infra.clock.now())


async def stored_times(store: SqliteCandleStore, provider: str, interval: Interval = H) -> list[int]:
    return [s.candle.timestamp for s in await store.range(BTC, interval, 0, FAR, 100_000, provider=provider)]


# -- the window /api/ohlcv fetches ----------------------------------------------------------------


async def test_a_window_fetched_stores_its_closed_candles_covering_up_to_the_candle_in_progress(
    infra: Infrastructure, store: SqliteCandleStore
) -> None:
    binance = FakeHistoryProvider("binance", infra.clock)
    now_hour = open_time_in_progress(H, int(infra.clock.now() * 1000))  # the clock is 13 min into it
    served = await get_ohlcv(infra, binance, CandleArchive(store, infra.clock)).execute("BTC", "1h", 10)

    assert served.value.candles[-1].timestamp == now_hour  # served with the candle in progress...
    first = now_hour - (MAX_CANDLES - 1) * HOUR
    assert await store.covered("binance", BTC, H, 0, FAR) == (CandleSpan(first, now_hour),)
    times = await stored_times(store, "binance")
    assert times == [first + i * HOUR for i in range(MAX_CANDLES - 1)]  # ...never stored
    assert (await store.range(BTC, H, first, first + 1, 1))[0].candle == candle_at(first)


async def test_a_range_inside_a_fetched_window_then_costs_no_upstream_call(
    infra: Infrastructure, store: SqliteCandleStore
) -> None:
    binance = FakeHistoryProvider("binance", infra.clock)
    now_hour = open_time_in_progress(H, int(infra.clock.now() * 1000))
    await get_ohlcv(infra, binance, CandleArchive(store, infra.clock)).execute("BTC", "1h", 1)
    history = CandleHistory([binance], infra.calls, store, infra.clock)

    page = await history.page(BTC, H, now_hour - 500 * HOUR, now_hour, 10_000)

    assert [c.timestamp for c in page.series.candles] == [now_hour - (500 - i) * HOUR for i in range(500)]
    assert (page.complete, page.gaps, page.next_ms) == (True, (), None)
    assert binance.range_calls == []
    assert binance.window_calls == 1


async def test_the_newest_candle_of_a_window_is_not_final_until_its_close_has_settled(
    infra: Infrastructure, store: SqliteCandleStore
) -> None:
    # The exchange's answer ends with the candle that closed one second ago by our clock (no
    # candle in progress yet on its side): it may still have been forming there.
    now_hour = open_time_in_progress(H, int(infra.clock.now() * 1000)) + HOUR
    set_clock(infra, now_hour + 1_000)
    binance = FakeHistoryProvider("binance", infra.clock, outages=[CandleSpan(now_hour, now_hour + HOUR)])
    archive = CandleArchive(store, infra.clock, settle=2.0)
    served = await get_ohlcv(infra, binance, archive).execute("BTC", "1h", 3)
    assert [c.timestamp for c in served.value.candles] == [
        now_hour - 3 * HOUR,
        now_hour - 2 * HOUR,
        now_hour - HOUR,
    ]

    first = now_hour - (MAX_CANDLES - 1) * HOUR
    assert await store.covered("binance", BTC, H, 0, FAR) == (CandleSpan(first, now_hour - HOUR),)
    assert (await stored_times(store, "binance"))[-1] == now_hour - 2 * HOUR

    set_clock(infra, now_hour + 3_000)  # settled: the same answer now stores its newest candle too
    await archive.keep_window(served.value, archive.now_ms())
    assert await store.covered("binance", BTC, H, 0, FAR) == (CandleSpan(first, now_hour),)
    assert (await stored_times(store, "binance"))[-1] == now_hour - HOUR


class BrokenStore:
    """A CandleStore whose database is gone: every call fails."""

    name = "sqlite"

    def __init__(self) -> None:
        self.upserts = 0

    async def upsert(self, *args: object, **kwargs: object) -> int:
        self.upserts += 1
        raise OSError("disk I/O error")

    async def range(self, *args: object, **kwargs: object) -> tuple[()]:
        raise OSError("disk I/O error")

    async def covered(self, *args: object, **kwargs: object) -> tuple[()]:
        raise OSError("disk I/O error")

    async def close(self) -> None:
        return None


async def test_a_failing_store_never_fails_the_request(
    infra: Infrastructure, caplog: pytest.LogCaptureFixture
) -> None:
    binance = FakeHistoryProvider("binance", infra.clock)
    broken = BrokenStore()
    with caplog.at_level(logging.WARNING, logger="history.archive"):
        served = await get_ohlcv(infra, binance, CandleArchive(broken, infra.clock)).execute("BTC", "1h", 5)

    assert len(served.value.candles) == 5
    assert served.value.source == "binance"
    assert broken.upserts == 1
    assert [r.getMessage() for r in caplog.records] == [
        "candles of BTCUSDT 1h from binance not stored: OSError: disk I/O error"
    ]


# -- the live streams' closed candles ------------------------------------------------------------


class RecordingArchive:
    """ClosedCandleArchive that records each write, for the batching tests."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, str, list[int]]] = []

    async def keep_closed(
        self, provider: str, symbol: Symbol, interval: Interval, candles: Sequence[Candle]
    ) -> None:
        self.writes.append((provider, symbol.pair, interval.name, [c.timestamp for c in candles]))


async def test_live_closed_candles_are_stored_covered_and_then_cost_no_upstream_call(
    tmp_path: Path,
) -> None:
    world = live_world()
    store = await SqliteCandleStore.open(str(tmp_path / "candles.sqlite3"), world.clock)
    try:
        queue = ClosedCandleQueue(CandleArchive(store, world.clock), linger=0)
        feed = LiveFanout(world.bus, world.interest, world.report, world.get_ohlcv, world.get_prices,
                          world.symbols, world.intervals, world.clock, closed_candles=queue)  # fmt: skip
        running = asyncio.get_running_loop().create_task(feed.run())
        while not world.bus.listeners:
            await asyncio.sleep(0)
        opens = [OPEN_MS - (5 - i) * MINUTE_MS for i in range(5)]
        for at in opens:  # nobody watches here: another replica's subscriber made the stream
            await world.bus.publish(candle_event(at, closed=False))
            await world.bus.publish(candle_event(at, closed=True))
        await world.bus.publish(candle_event(OPEN_MS, closed=False))  # the candle in progress
        async with asyncio.timeout(5):
            while queue.written < 5:
                await asyncio.sleep(0.01)
            await queue.drained()

        assert await store.covered("binance", BTC, ONE_MINUTE, 0, FAR) == (CandleSpan(opens[0], OPEN_MS),)
        stored = await store.range(BTC, ONE_MINUTE, 0, FAR, 100, provider="binance")
        assert [s.candle for s in stored] == [final(at) for at in opens]  # the final values only

        exchange = FakeHistoryProvider("binance", world.clock)
        history = CandleHistory([exchange], world.infra.calls, store, world.clock)
        page = await history.page(BTC, ONE_MINUTE, opens[0], OPEN_MS, 100)
        assert [c.timestamp for c in page.series.candles] == opens
        assert (page.complete, page.gaps) == (True, ())
        assert exchange.range_calls == []

        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        assert running.cancelled() or running.done()
    finally:
        await store.close()


async def test_closed_candles_are_written_in_batches_one_per_market_and_provider() -> None:
    archive = RecordingArchive()
    queue = ClosedCandleQueue(archive, batch=3, linger=0)
    queue.offer(candle_event(OPEN_MS - 3 * MINUTE_MS, closed=True))
    queue.offer(candle_event(OPEN_MS - 2 * MINUTE_MS, closed=True, source="kraken"))
    queue.offer(candle_event(OPEN_MS - 2 * MINUTE_MS, closed=True))
    queue.offer(candle_event(OPEN_MS - MINUTE_MS, closed=True))
    queue.offer(candle_event(OPEN_MS, closed=False))  # not closed: not for the store
    queue.offer(candle_event(OPEN_MS - MINUTE_MS, closed=True))  # delivered again: one write
    assert queue.pending == 4

    running = asyncio.get_running_loop().create_task(queue.run())
    async with asyncio.timeout(5):
        await asyncio.sleep(0)
        await queue.drained()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert archive.writes == [
        ("binance", "BTCUSDT", "1m", [OPEN_MS - 3 * MINUTE_MS, OPEN_MS - 2 * MINUTE_MS]),
        ("kraken", "BTCUSDT", "1m", [OPEN_MS - 2 * MINUTE_MS]),
        ("binance", "BTCUSDT", "1m", [OPEN_MS - MINUTE_MS]),
    ]
    assert queue.written == 4


async def test_past_its_limit_the_queue_drops_the_oldest_candle() -> None:
    archive = RecordingArchive()
    queue = ClosedCandleQueue(archive, limit=2, linger=0)
    for back in (3, 2, 1):
        queue.offer(candle_event(OPEN_MS - back * MINUTE_MS, closed=True))
    assert (queue.pending, queue.dropped) == (2, 1)
    running = asyncio.get_running_loop().create_task(queue.run())
    async with asyncio.timeout(5):
        await asyncio.sleep(0)
        await queue.drained()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert archive.writes == [("binance", "BTCUSDT", "1m", [OPEN_MS - 2 * MINUTE_MS, OPEN_MS - MINUTE_MS])]


async def test_live_candles_with_a_hole_are_covered_as_two_spans(
    infra: Infrastructure, store: SqliteCandleStore
) -> None:
    set_clock(infra, int(NOW * 1000))
    archive = CandleArchive(store, infra.clock)
    opens = [OPEN_MS - 5 * MINUTE_MS, OPEN_MS - 4 * MINUTE_MS, OPEN_MS - 2 * MINUTE_MS]
    await archive.keep_closed("binance", BTC, ONE_MINUTE, [final(at) for at in reversed(opens)])
    assert await store.covered("binance", BTC, ONE_MINUTE, 0, FAR) == (
        CandleSpan(opens[0], opens[1] + MINUTE_MS),
        CandleSpan(opens[2], opens[2] + MINUTE_MS),
    )
    assert await stored_times(store, "binance", ONE_MINUTE) == opens


async def test_a_live_candle_off_the_interval_grid_is_not_kept(
    infra: Infrastructure, store: SqliteCandleStore
) -> None:
    week = Interval("1w")
    monday = 1_699_228_800_000  # 2023-11-06T00:00:00Z, a Monday
    set_clock(infra, monday + 8 * 24 * HOUR)
    archive = CandleArchive(store, infra.clock)
    thursday = monday - 4 * 24 * HOUR  # how Kraken's weeks open
    await archive.keep_closed("kraken", BTC, week, [final(thursday), final(monday - 7 * 24 * HOUR)])
    assert await stored_times(store, "kraken", week) == [monday - 7 * 24 * HOUR]
    assert await store.covered("kraken", BTC, week, 0, FAR) == (CandleSpan(monday - 7 * 24 * HOUR, monday),)
