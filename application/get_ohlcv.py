"""Use case: OHLCV candles for one market, with provider fallback."""

from __future__ import annotations

from collections.abc import Sequence

from application.fallback_chain import first_answer
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from application.served import Served
from domain.candle import MAX_CANDLES, CandleSeries, check_limit
from domain.errors import AllProvidersFailed, InvalidSymbol
from domain.interval import Interval, IntervalParser
from domain.ports import OhlcvProvider
from domain.symbol import Symbol, SymbolParser

DEFAULT_INTERVAL = "1h"


class GetOhlcv:
    """Candles from the first provider of OHLCV_PROVIDERS that answers.

    One cache entry per market and interval holds the most candles a provider gives (1000
    from Binance, 720 from Kraken); each request is served the newest ``limit`` of them, so
    requests that differ only in ``limit`` share one upstream call.
    """

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
        if not any(p.supports(market, bar) for p in self._providers):
            raise InvalidSymbol(f"no configured provider serves {market.pair} {bar.name} candles", field="symbol")
        try:
            served = await self._read_through.get(
                f"ohlcv:{market.pair}:{bar.name}", self._ttl, lambda: self._fetch(market, bar)
            )
        except AllProvidersFailed as error:
            if error.rejected_only:  # every provider said this market does not exist there
                raise InvalidSymbol(f"no provider lists {market.pair}", field="symbol") from error
            raise
        series = served.value
        if len(series.candles) <= count:
            return served
        newest = CandleSeries(series.symbol, series.interval, series.candles[-count:], series.source)
        return served.narrowed(newest, count)

    async def _fetch(self, market: Symbol, bar: Interval) -> CandleSeries:
        return await first_answer(
            self._providers,
            self._calls,
            lambda p: p.fetch_ohlcv(market, bar, MAX_CANDLES),
            lambda p: None if p.supports(market, bar) else f"does not serve {market.pair} {bar.name}",
        )
