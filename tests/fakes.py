"""Fakes that implement the domain ports, for every test layer. They record calls; no mocks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.candle import Candle, CandleSeries
from domain.errors import ProviderError
from domain.interval import Interval
from domain.market import MarketOverview
from domain.quote import Quote
from domain.sentiment import FearGreed, FearGreedHistory
from domain.symbol import Symbol


class FakeClock:
    """Implements the Clock port with a clock that only moves when told to.

    Wall time starts at ``now``, monotonic time at 1000; ``advance`` moves both. Tests that
    are about time (TTLs, circuit timeouts, cool-downs, windows) advance it instead of
    sleeping; waits on sockets stay real.
    """

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self._now = now
        self._mono = 1000.0

    def now(self) -> float:
        """Wall-clock epoch seconds, as last advanced."""
        return self._now

    def monotonic(self) -> float:
        """Monotonic seconds, as last advanced."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass at once, on both clocks."""
        self._now += seconds
        self._mono += seconds


@dataclass
class FakeOhlcvProvider:
    """Answers with generated candles, or raises ``error`` when set; records every call."""

    name: str
    error: ProviderError | None = None
    delay: float = 0.0
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    serves: bool = True
    enabled: bool = True

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        return self.serves

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        self.calls.append((symbol.pair, interval.name, limit))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        step = interval.milliseconds
        candles = tuple(
            Candle(1_700_000_000_000 + i * step, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0)
            for i in range(limit)
        )
        return CandleSeries(symbol, interval, candles, self.name)


@dataclass
class FakePriceProvider:
    """Quotes ``prices`` (base → USD); absent bases are not listed by this provider."""

    name: str
    prices: dict[str, float] = field(default_factory=dict)
    error: ProviderError | None = None
    enabled: bool = True
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def lists(self, base: str) -> bool:
        return True

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        self.calls.append(tuple(bases))
        if self.error is not None:
            raise self.error
        return {
            base: Quote(base, base.title(), self.prices[base], 1.5, 1000.0, None, 1_700_000_000.0, self.name)
            for base in bases
            if base in self.prices
        }


@dataclass
class FakeSentimentProvider:
    """Answers with ``values`` (newest first) as daily readings."""

    name: str = "alternative_me"
    values: tuple[int, ...] = (60, 58, 40, 70, 65, 62, 59)
    error: ProviderError | None = None
    calls: int = 0
    enabled: bool = True

    async def fetch_fear_greed(self, days: int) -> FearGreedHistory:
        self.calls += 1
        if self.error is not None:
            raise self.error
        readings = tuple(
            FearGreed(v, "Greed", 1_700_000_000.0 - i * 86400) for i, v in enumerate(self.values[:days])
        )
        return FearGreedHistory(readings, self.name)


@dataclass
class FakeOverviewProvider:
    """Answers with a fixed overview."""

    name: str = "coingecko"
    error: ProviderError | None = None
    calls: int = 0
    enabled: bool = True

    async def fetch_overview(self) -> MarketOverview:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return MarketOverview(2.5e12, 9e10, 52.1, 17.3, 12000, 900, -1.2, 1_700_000_000.0, self.name)
