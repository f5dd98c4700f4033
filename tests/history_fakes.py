"""A fake exchange with a history: candles from a listing time on, outages, a reach, pages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.candle import Candle, CandleSeries
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.errors import ProviderError
from domain.interval import Interval
from domain.range_plan import first_open_time
from domain.symbol import Symbol
from tests.fakes import FakeClock


def candle_at(timestamp: int, provider: str = "binance") -> Candle:
    """The candle the fake exchange ``provider`` has at ``timestamp``: its prices say when it
    opened and who served it, so a test can tell candles (and their provider) apart."""
    base = 100.0 + (timestamp // 60_000) % 100_000 + (0.25 if provider == "kraken" else 0.0)
    return Candle(timestamp, base, base + 2, base - 1, base + 1, 10.0)


@dataclass
class FakeHistoryProvider:
    """Implements OhlcvHistory as an exchange would: a candle for every interval from
    ``listed_ms`` up to the one in progress (on ``clock``), none inside ``outages``; ranges
    answered ``page_size`` candles a call from their start; with ``reach_bars``, nothing older
    than that many bars back (the one in progress counted), as Kraken. Records every call."""

    name: str
    clock: FakeClock
    listed_ms: int = 0
    outages: list[CandleSpan] = field(default_factory=list)
    page_size: int = 1000
    reach_bars: int | None = None
    error: ProviderError | None = None
    fail_after: int | None = None  # range calls that succeed before ``error`` is raised
    window_error: ProviderError | None = None  # raised by newest-candles calls only
    enabled: bool = True
    delay: float = 0.0  # seconds each range call takes (real time: for calls made at once)
    range_calls: list[tuple[int, int]] = field(default_factory=list)
    candle: Callable[[int, str], Candle] = candle_at  # the candle it has at an open time
    window_calls: int = 0

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        return True

    def has(self, timestamp: int) -> bool:
        """Whether the exchange has a candle opening at ``timestamp``."""
        return timestamp >= self.listed_ms and not any(s.start_ms <= timestamp < s.end_ms for s in self.outages)

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def reach(self, interval: Interval) -> int:
        """The oldest open time this exchange still answers."""
        current = open_time_in_progress(interval, self._now_ms())
        return 0 if self.reach_bars is None else current - (self.reach_bars - 1) * interval.milliseconds

    def _opens(self, interval: Interval, start_ms: int, end_ms: int) -> list[int]:
        last = open_time_in_progress(interval, self._now_ms())
        found, at = [], first_open_time(interval, max(start_ms, self.reach(interval)))
        while at < end_ms and at <= last:
            if self.has(at):
                found.append(at)
            at += interval.milliseconds
        return found

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        self.window_calls += 1
        if self.window_error is not None:
            raise self.window_error
        if self.error is not None and self.fail_after is None:
            raise self.error
        current = open_time_in_progress(interval, self._now_ms())
        opens = self._opens(interval, current - (limit - 1) * interval.milliseconds, current + 1)
        return CandleSeries(symbol, interval, tuple(self.candle(t, self.name) for t in opens), self.name)

    async def fetch_ohlcv_range(self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int) -> CandleRange:
        self.range_calls.append((start_ms, end_ms))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None and (self.fail_after is None or len(self.range_calls) > self.fail_after):
            raise self.error
        reach = max(start_ms, self.reach(interval))
        if reach >= end_ms:
            return CandleRange((), None)
        opens = self._opens(interval, reach, end_ms)
        if len(opens) > self.page_size:  # as Binance: from the start, a page's worth
            opens = opens[: self.page_size]
        covering_end = opens[-1] + interval.milliseconds if len(opens) == self.page_size else end_ms
        return CandleRange(tuple(self.candle(t, self.name) for t in opens), CandleSpan(reach, covering_end))
