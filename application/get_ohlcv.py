"""Use case: OHLCV candles for one market, with provider fallback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from application.fallback_chain import first_answer
from application.live.live_markets import LiveCandles, LiveMarkets
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from application.served import Served
from domain.candle import MAX_CANDLES, CandleSeries, check_limit
from domain.errors import AllProvidersFailed, InvalidSymbol
from domain.interval import Interval, IntervalParser
from domain.live_window import joined_window
from domain.ports import OhlcvProvider
from domain.symbol import Symbol, SymbolParser

DEFAULT_INTERVAL = "1h"


class WindowArchive(Protocol):
    """Where the closed candles of each window fetched are kept (``CandleArchive``; a protocol,
    since the history use cases import this module)."""

    def now_ms(self) -> int:
        """The time now (epoch ms), read just before a window is asked for."""
        ...

    async def keep_window(self, series: CandleSeries, asked_ms: int) -> None:
        """Keep the closed candles of ``series``, asked for at ``asked_ms``; never raises."""
        ...


class GetOhlcv:
    """Candles from the first provider of OHLCV_PROVIDERS that answers.

    One cache entry per market and interval holds the most candles a provider gives (1000
    from Binance, 720 from Kraken); each request is served the newest ``limit`` of them, so
    requests that differ only in ``limit`` share one upstream call.

    While a market is live (``live``: watched here, its stream connected), the candles the
    stream delivered are joined into the cached window: the newest is the live one and the
    closed ones keep the window current, so it is not fetched again while they reach back to
    when it was fetched. Such answers say ``live``.

    With an ``archive``, every window fetched also puts its closed candles in the candle store
    (a store failure never fails the request).
    """

    def __init__(
        self,
        symbols: SymbolParser,
        intervals: IntervalParser,
        providers: Sequence[OhlcvProvider],
        calls: ProviderCalls,
        read_through: ReadThrough,
        ttl: float,
        live: LiveMarkets | None = None,
        archive: WindowArchive | None = None,
    ) -> None:
        self._symbols = symbols
        self._intervals = intervals
        self._providers = tuple(providers)
        self._calls = calls
        self._read_through = read_through
        self._ttl = ttl
        self._live = live
        self._archive = archive
        # The last joined window per market and interval: requests between two live changes
        # share it instead of joining a thousand candles each.
        self._joined: dict[tuple[Symbol, Interval], tuple[float, int, Served[CandleSeries]]] = {}

    async def execute(self, symbol: str | None, interval: str | None, limit: int) -> Served[CandleSeries]:
        """Validate the request (before any upstream call) and serve its candles."""
        market = self._symbols.parse(symbol)
        bar = self._intervals.parse(interval or DEFAULT_INTERVAL)
        count = check_limit(limit)
        self.check(market, bar)
        live = self._live.candles(market, bar) if self._live is not None else None
        oldest = None if live is None else live.trail.oldest
        served = await self.window(market, bar, None if oldest is None else oldest / 1000)
        if self._live is not None:
            served = self._join(served, self._live.candles(market, bar))  # as it is now, after the await
        series = served.value
        if len(series.candles) <= count:
            return served
        newest = CandleSeries(series.symbol, series.interval, series.candles[-count:], series.source)
        return served.narrowed(newest, count)

    def check(self, market: Symbol, interval: Interval) -> None:
        """Raise ``InvalidSymbol`` when no configured provider serves these candles."""
        if not any(p.supports(market, interval) for p in self._providers):
            raise InvalidSymbol(
                f"no configured provider serves {market.pair} {interval.name} candles", field="symbol"
            )

    async def window(
        self, market: Symbol, interval: Interval, fetched_since: float | None = None
    ) -> Served[CandleSeries]:
        """The whole cached window of ``market`` (fetched when missing or expired); with
        ``fetched_since`` (epoch s), fetched again unless the cached one was fetched since."""
        try:
            return await self._read_through.get(
                f"ohlcv:{market.pair}:{interval.name}",
                self._ttl,
                lambda: self._fetch(market, interval),
                fetched_since,
            )
        except AllProvidersFailed as error:
            if error.rejected_only:  # every provider said this market does not exist there
                raise InvalidSymbol(f"no provider lists {market.pair}", field="symbol") from error
            raise

    def _join(self, served: Served[CandleSeries], live: LiveCandles | None) -> Served[CandleSeries]:
        """``served`` with the live trail joined in, or as it is when they do not join up."""
        series = served.value
        key = (series.symbol, series.interval)
        if live is None:
            self._joined.pop(key, None)
            return served
        known = self._joined.get(key)
        if known is not None and known[0] == served.fetched_at and known[1] == live.version:
            return known[2]
        window = joined_window(
            series.candles,
            int(served.fetched_at * 1000),
            series.interval.milliseconds,
            live.trail,
            MAX_CANDLES,
        )
        if not window.complete:  # fetched before the trail began: not joined, not live
            return served
        joined = CandleSeries(
            series.symbol,
            series.interval,
            tuple(candle for candle, _ in window.candles),
            window.source(series.source, live.trail.source),
        )
        answer = Served(
            joined, False, served.fetched_at, served.request, live=True, live_version=live.version
        )
        self._joined[key] = (served.fetched_at, live.version, answer)
        return answer

    async def _fetch(self, market: Symbol, bar: Interval) -> CandleSeries:
        asked_ms = self._archive.now_ms() if self._archive is not None else 0
        series = await first_answer(
            self._providers,
            self._calls,
            lambda p: p.fetch_ohlcv(market, bar, MAX_CANDLES),
            lambda p: None if p.supports(market, bar) else f"does not serve {market.pair} {bar.name}",
        )
        if self._archive is not None:
            await self._archive.keep_window(series, asked_ms)
        return series
