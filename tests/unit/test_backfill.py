"""Backfill: the pages it walks, its waits when refused, resuming, and a second run costing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.resilience.upstream_budget import MovingWindowBudgets
from adapters.store.sqlite import SqliteCandleStore
from application.history.backfill import Backfill
from application.history.backfill_report import MarketReport
from application.history.candle_history import CandleHistory
from application.provider_calls import ProviderCalls
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.errors import BudgetExhausted, InvalidInput, InvalidInterval, InvalidParameter, InvalidSymbol
from domain.interval import Interval, IntervalParser
from domain.symbol import Symbol, SymbolParser
from tests.fakes import FakeClock
from tests.history_fakes import FakeHistoryProvider
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, T0

H = Interval("1h")
D = Interval("1d")
HOUR = 3_600_000
DAY = 24 * HOUR
BTC = Symbol("BTC", "USDT")


class RefusingBudgets:
    """UpstreamBudgets spent after ``allowed`` calls: refused (saying how long is left) until
    ``refill`` seconds after the first refusal, then open again."""

    def __init__(self, clock: FakeClock, allowed: int, refill: float) -> None:
        self.clock = clock
        self.allowed = allowed
        self.refill = refill
        self.taken = 0
        self.until: float | None = None

    async def take(self, provider: str) -> None:
        now = self.clock.now()
        if self.taken >= self.allowed and (self.until is None or now < self.until):
            self.until = self.until if self.until is not None else now + self.refill
            raise BudgetExhausted(provider, "our request budget is spent", retry_after=self.until - now)
        self.taken += 1


@dataclass
class Recorder:
    """BackfillProgress that records what it is told."""

    events: list[tuple[str, str, int, int]] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    stop_after_pages: int | None = None
    backfill: Backfill | None = None

    def started(self, report: MarketReport) -> None:
        self.events.append(("started", report.job.name, report.job.expected, 0))

    def advanced(self, report: MarketReport) -> None:
        self.events.append(("page", report.job.name, report.done, report.candles))
        pages = sum(1 for e in self.events if e[0] == "page")
        if self.stop_after_pages is not None and pages == self.stop_after_pages and self.backfill is not None:
            self.backfill.stop()  # Ctrl-C while this page was walked

    def waiting(self, report: MarketReport, seconds: float, why: str) -> None:
        self.waits.append(seconds)

    def finished(self, report: MarketReport) -> None:
        self.events.append(("finished", report.job.name, report.done, report.candles))


@dataclass
class World:
    clock: FakeClock
    binance: FakeHistoryProvider
    calls: ProviderCalls
    history: CandleHistory
    sleeps: list[float]

    def backfill(self, page_limit: int = 10_000) -> Backfill:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            self.clock.advance(seconds)

        return Backfill(
            SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS), self.history, self.calls,
            self.clock, sleep, page_limit=page_limit,
        )  # fmt: skip

    def now_hour(self) -> int:
        return open_time_in_progress(H, int(self.clock.now() * 1000))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqliteCandleStore]:
    opened = await SqliteCandleStore.open(str(tmp_path / "candles.sqlite3"), clock)
    yield opened
    await opened.close()


@pytest.fixture
def build(store: SqliteCandleStore, clock: FakeClock) -> Callable[..., World]:
    """A world over the store, its provider built with ``provider``'s fields."""

    def make(**provider: Any) -> World:
        binance = FakeHistoryProvider("binance", clock, **provider)
        calls = ProviderCalls(clock, 5.0, providers=[binance])
        return World(clock, binance, calls, CandleHistory([binance], calls, store, clock), [])

    return make


async def test_it_walks_the_range_a_page_at_a_time_and_a_second_run_makes_no_call(
    store: SqliteCandleStore, build: Callable[..., World]
) -> None:
    w = build()
    start, end = w.now_hour() - 2500 * HOUR, w.now_hour()
    backfill = w.backfill(page_limit=1000)
    progress = Recorder()
    report = await backfill.run(backfill.plan("BTC", "1h", str(start)), progress)

    assert progress.events == [
        ("started", "BTCUSDT 1h", 2500, 0),
        ("page", "BTCUSDT 1h", 1000, 1000),
        ("page", "BTCUSDT 1h", 2000, 2000),
        ("page", "BTCUSDT 1h", 2500, 2500),
        ("finished", "BTCUSDT 1h", 2500, 2500),
    ]
    assert w.binance.range_calls == [(start, end), (start + 1000 * HOUR, end), (start + 2000 * HOUR, end)]
    assert (report.candles, report.gaps, report.upstream_calls, report.interrupted) == (2500, 0, 3, False)
    assert report.incomplete == []
    assert await store.covered("binance", BTC, H, 0, 10**14) == (CandleSpan(start, end),)

    again = w.backfill(page_limit=1000)
    second = await again.run(again.plan("BTC", "1h", str(start)))
    assert (second.candles, second.upstream_calls) == (2500, 0)
    assert len(w.binance.range_calls) == 3  # nothing fetched twice
    assert w.sleeps == []


async def test_a_whole_range_is_one_page_of_ten_thousand_fetched_a_provider_page_per_call(
    store: SqliteCandleStore,
    build: Callable[..., World],
) -> None:
    w = build()
    w.binance.outages = [CandleSpan(w.now_hour() - 700 * HOUR, w.now_hour() - 690 * HOUR)]
    start, end = w.now_hour() - 2500 * HOUR, w.now_hour()
    backfill = w.backfill()
    report = await backfill.run(backfill.plan("btc-usdt", "1H", str(start)))

    assert len(w.binance.range_calls) == 3
    (market,) = report.markets
    assert (market.candles, market.done, market.complete, report.upstream_calls) == (2490, 2500, True, 3)
    assert market.gaps == [CandleSpan(end - 700 * HOUR, end - 690 * HOUR)]  # the outage, reported once


async def test_a_refusal_makes_it_wait_as_long_as_the_provider_says_then_go_on(
    store: SqliteCandleStore, build: Callable[..., World]
) -> None:
    w = build()
    budgets = RefusingBudgets(w.clock, allowed=2, refill=42.5)  # the third call finds the budget spent
    w.calls = ProviderCalls(w.clock, 5.0, providers=[w.binance], budgets=budgets)
    w.history = CandleHistory([w.binance], w.calls, store, w.clock)
    start, end = w.now_hour() - 2500 * HOUR, w.now_hour()
    backfill = w.backfill()
    progress = Recorder()
    report = await backfill.run(backfill.plan("BTC", "1h", str(start)), progress)

    assert w.sleeps == [42.5]
    assert progress.waits == [42.5]
    # The page ended where the refusal came; after the wait the walk went on from there.
    assert w.binance.range_calls == [(start, end), (start + 1000 * HOUR, end), (start + 2000 * HOUR, end)]
    assert [e[2] for e in progress.events if e[0] == "page"] == [2000, 2500]
    assert (report.candles, report.upstream_calls, report.incomplete) == (2500, 3, [])


async def test_a_real_budget_refills_while_it_waits(
    store: SqliteCandleStore, build: Callable[..., World]
) -> None:
    w = build()
    w.calls = ProviderCalls(
        w.clock, 5.0, providers=[w.binance], budgets=MovingWindowBudgets({"binance": "2/minute"}, w.clock)
    )
    w.history = CandleHistory([w.binance], w.calls, store, w.clock)
    start = w.now_hour() - 2500 * HOUR
    backfill = w.backfill()
    report = await backfill.run(backfill.plan("BTC", "1h", str(start)))

    assert w.sleeps[0] == 60.0  # the window's length: the two calls spent leave it then
    assert sum(w.sleeps) <= 61.0
    assert (report.candles, report.upstream_calls, report.incomplete) == (2500, 3, [])


async def test_interrupted_then_resumed_it_makes_only_the_remaining_calls(
    store: SqliteCandleStore, build: Callable[..., World]
) -> None:
    w = build()
    start, end = w.now_hour() - 2500 * HOUR, w.now_hour()
    first = w.backfill(page_limit=1000)
    progress = Recorder(stop_after_pages=1, backfill=first)
    jobs = first.plan("BTC,ETH", "1h", str(start))
    stopped = await first.run(jobs, progress)

    assert stopped.interrupted is True
    assert [m.job.name for m in stopped.markets] == ["BTCUSDT 1h"]  # ETH never began
    assert [m.reason for m in stopped.incomplete] == ["interrupted"]
    assert w.binance.range_calls == [(start, end)]

    resumed = w.backfill(page_limit=1000)
    report = await resumed.run(resumed.plan("BTC,ETH", "1h", str(start)))
    assert w.binance.range_calls[1:] == [
        (start + 1000 * HOUR, end), (start + 2000 * HOUR, end),  # BTC: the rest only
        (start, end), (start + 1000 * HOUR, end), (start + 2000 * HOUR, end),  # ETH: all of it
    ]  # fmt: skip
    assert (report.candles, report.upstream_calls, report.incomplete, report.interrupted) == (
        5000,
        5,
        [],
        False,
    )


async def test_a_provider_that_keeps_failing_leaves_the_market_incomplete_with_the_reason(
    store: SqliteCandleStore,
    build: Callable[..., World],
) -> None:
    from domain.errors import ProviderUnavailable

    w = build(error=ProviderUnavailable("binance", "HTTP 502"))
    backfill = w.backfill()
    report = await backfill.run(backfill.plan("BTC", "1d", str(w.now_hour() - 30 * DAY)))

    (market,) = report.incomplete
    assert market.reason == "every provider failed (binance: HTTP 502)"
    assert w.sleeps == [5.0] * 7  # the default wait between the eight attempts
    assert report.upstream_calls == 8


@pytest.mark.parametrize(
    ("symbols", "intervals", "since", "until", "error", "message"),
    [
        ("DOGE", "1h", "2024-01-01", None, InvalidSymbol, "unknown symbol 'DOGE'; supported bases: ADA,"),
        ("BTC", "2h", "2024-01-01", None, InvalidInterval, "unsupported interval '2h'"),
        (
            "BTC",
            "1h",
            "yesterday",
            None,
            InvalidParameter,
            "--since must be epoch milliseconds or an ISO 8601 UTC time, got 'yesterday'",
        ),
        ("BTC", "1h", "2031-01-01", None, InvalidParameter, "--since is in the future: '2031-01-01'"),
        (
            "BTC",
            "1h",
            "2023-06-02",
            "2023-06-01",
            InvalidParameter,
            "--since must be before --until, got 1685664000000 and 1685577600000",
        ),
        (" , ", "1h", "2023-06-02", None, InvalidParameter, "--symbols names nothing"),
    ],
)
async def test_bad_input_is_refused_before_any_call(
    store: SqliteCandleStore, build: Callable[..., World], symbols: str, intervals: str, since: str, until: str | None,
    error: type[InvalidInput], message: str,
) -> None:  # fmt: skip
    w = build()
    with pytest.raises(error) as raised:
        w.backfill().plan(symbols, intervals, since, until)
    assert raised.value.message.startswith(message)
    assert w.binance.range_calls == []


async def test_the_range_ends_at_the_candle_in_progress_or_until(
    store: SqliteCandleStore, build: Callable[..., World]
) -> None:
    w = build()
    jobs = w.backfill().plan("BTC", "1h,1d", "2023-11-01", None)
    now_ms = int(T0 * 1000)
    assert [(j.name, j.start_ms, j.end_ms) for j in jobs] == [
        ("BTCUSDT 1h", 1_698_796_800_000, open_time_in_progress(H, now_ms)),
        ("BTCUSDT 1d", 1_698_796_800_000, open_time_in_progress(D, now_ms)),
    ]
    (capped,) = w.backfill().plan("BTC", "1d", "2023-11-01", "2023-11-03T12:00:00Z")
    assert (capped.end_ms, capped.expected) == (1_699_012_800_000, 3)


async def test_while_the_first_provider_refuses_it_waits_for_it_rather_than_store_the_next_ones(
    store: SqliteCandleStore, clock: FakeClock
) -> None:
    binance = FakeHistoryProvider("binance", clock)
    kraken = FakeHistoryProvider("kraken", clock, page_size=720, reach_bars=720)
    budgets = RefusingBudgets(clock, allowed=0, refill=30.0)  # binance refused until 30 s pass
    calls = ProviderCalls(clock, 5.0, providers=[binance, kraken], budgets=_OnlyFor("binance", budgets))
    w = World(clock, binance, calls, CandleHistory([binance, kraken], calls, store, clock), [])
    start = w.now_hour() - 100 * HOUR
    backfill = w.backfill()
    report = await backfill.run(backfill.plan("BTC", "1h", str(start)))
    assert w.sleeps == [30.0]
    assert kraken.range_calls == []
    assert binance.range_calls == [(start, w.now_hour())]
    assert (report.candles, report.incomplete) == (100, [])


@dataclass
class _OnlyFor:
    """UpstreamBudgets limiting ``provider`` only."""

    provider: str
    budgets: RefusingBudgets

    async def take(self, provider: str) -> None:
        if provider == self.provider:
            await self.budgets.take(provider)
