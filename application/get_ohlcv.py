"""Use case: OHLCV candles for one market, with provider fallback."""

from __future__ import annotations

from collections.abc import Sequence

from application.fallback_chain import first_answer
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough, Served
from domain.candle import CandleSeries, check_limit
from domain.interval import IntervalParser
from domain.ports import OhlcvProvider
from domain.symbol import SymbolParser

DEFAULT_INTERVAL = "1h"


class GetOhlcv:
    """Candles from the first provider of OHLCV_PROVIDERS that answers, cached per request."""

    def __init__(
        self,
        symbols: SymbolParser,
        intervals: IntervalParser,
        providers: Sequence[OhlcvProvider],
        calls: ProviderCalls,
        read_through: ReadThrough,
        ttl: float,
    ) -> None:
        self._symbols = symbols
        self._intervals = intervals
        self._providers = tuple(providers)
        self._calls = calls
        self._read_through = read_through
        self._ttl = ttl

    async def execute(self, symbol: str | None, interval: str | None, limit: int) -> Served[CandleSeries]:
        """Validate the request (before any upstream call) and serve its candles."""
        market = self._symbols.parse(symbol)
        bar = self._intervals.parse(interval or DEFAULT_INTERVAL)
        count = check_limit(limit)
        key = f"ohlcv:{market.pair}:{bar.name}:{count}"
        return await self._read_through.get(
            key,
            self._ttl,
            lambda: first_answer(
                self._providers, self._calls, lambda p: p.fetch_ohlcv(market, bar, count)
            ),
        )
