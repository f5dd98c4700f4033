"""Use case: the candles of a time range, a page at a time, with its gaps reported."""

from __future__ import annotations

from dataclasses import replace

from application.get_ohlcv import DEFAULT_INTERVAL, GetOhlcv
from application.history.candle_history import CandleHistory
from application.served import Served
from domain.candle import Candle, CandleSeries
from domain.candle_page import CandlePage
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.errors import AllProvidersFailed, ProviderError
from domain.interval import Interval, IntervalParser
from domain.ports import Clock
from domain.symbol import Symbol, SymbolParser
from domain.time_range import TimeRange, check_range_limit


class GetOhlcvRange:
    """``/api/ohlcv`` with ``start``: the candles opening in ``[start, end)``, oldest first, at
    most ``limit`` a page, with ``next``, ``complete`` and ``gaps``.

    Closed candles come from ``history`` (the store, fetched upstream where it has no covered
    span). A range reaching the candle in progress ends with it as ``/api/ohlcv`` serves it
    (live or from the cached window, never from the store); asking for it first also puts the
    window's closed candles in the store, so the newest part of the range costs no extra call.
    """

    def __init__(
        self,
        symbols: SymbolParser,
        intervals: IntervalParser,
        history: CandleHistory,
        latest: GetOhlcv,
        clock: Clock,
    ) -> None:
        self._symbols = symbols
        self._intervals = intervals
        self._history = history
        self._latest = latest
        self._clock = clock

    async def execute(
        self, symbol: str | None, interval: str | None, start: str | None, end: str | None, limit: int | None
    ) -> Served[CandlePage]:
        """Validate the request (before any upstream call) and serve one page of it."""
        market, bar, span, count = self.parse(symbol, interval, start, end, limit)
        return await self.serve(market, bar, span, count)

    async def serve(self, market: Symbol, bar: Interval, span: TimeRange, count: int) -> Served[CandlePage]:
        """One page of at most ``count`` candles of ``span`` (already checked)."""
        now_ms = self._now_ms()
        end_ms = span.end_at(now_ms)
        in_progress = open_time_in_progress(bar, now_ms)
        newest: Served[CandleSeries] | None = None
        # A start inside the candle in progress is past its open time: not in the range.
        reaches_in_progress = span.start_ms <= in_progress < end_ms
        if reaches_in_progress:  # first, so the window is stored before the page is read
            try:
                newest = await self._latest.execute(market.pair, bar.name, 1)
            except (AllProvidersFailed, ProviderError):  # the closed part may still be had
                newest = None
        closed_end = min(end_ms, in_progress)
        if span.start_ms < closed_end:
            page = await self._history.page(market, bar, span.start_ms, closed_end, count)
        else:
            page = CandlePage(CandleSeries(market, bar, (), ""), None, True, ())
        if not reaches_in_progress or page.next_ms is not None:
            return Served(page, False, self._clock.now())
        if len(page.series.candles) >= count:  # full: the candle in progress is on the next page
            return Served(replace(page, next_ms=in_progress), False, self._clock.now())
        return self._with_newest(page, newest, in_progress, bar)

    def parse(
        self, symbol: str | None, interval: str | None, start: str | None, end: str | None, limit: int | None
    ) -> tuple[Symbol, Interval, TimeRange, int]:
        """The market, interval, range and page size asked for, or ``InvalidInput``."""
        market = self._symbols.parse(symbol)
        bar = self._intervals.parse(interval or DEFAULT_INTERVAL)
        span = TimeRange.of(start, end, self._now_ms())
        count = check_range_limit(limit)
        self._latest.check(market, bar)
        return market, bar, span, count

    def _with_newest(
        self, page: CandlePage, newest: Served[CandleSeries] | None, in_progress: int, bar: Interval
    ) -> Served[CandlePage]:
        """``page`` ended by the candle in progress, when ``newest`` has it from the same source."""
        current = _in_progress_candle(newest, in_progress)
        series = page.series
        source = None if newest is None else newest.value.source.split("+")[-1]
        if newest is None or current is None or (series.candles and source != series.source):
            missing = CandleSpan(in_progress, in_progress + bar.milliseconds)
            return Served(replace(page, complete=False, gaps=(*page.gaps, missing)), False, self._clock.now())
        joined = CandleSeries(series.symbol, series.interval, (*series.candles, current), series.source or source or "")
        return Served(
            replace(page, series=joined), newest.stale, newest.fetched_at, live=newest.live,
            live_version=newest.live_version,
        )  # fmt: skip

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)


def _in_progress_candle(newest: Served[CandleSeries] | None, in_progress: int) -> Candle | None:
    if newest is None or not newest.value.candles:
        return None
    candle = newest.value.candles[-1]
    return candle if candle.timestamp == in_progress else None
