"""Binance spot: klines (the newest, or a page of a range) and batched 24h tickers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, TypeAdapter

from adapters.providers.upstream import BLOCKED_PAUSE, UpstreamClient, UpstreamResponse, decode, status_error
from adapters.providers.wire import Amount, Number, Price
from domain.asset import display_name
from domain.candle import Candle, CandleSeries
from domain.candle_range import CandleRange
from domain.candle_span import CandleSpan
from domain.errors import BadPayload, ProviderError, UpstreamBlocked, UpstreamRejected
from domain.interval import Interval
from domain.ports import Clock
from domain.quote import Quote
from domain.symbol import Symbol

NAME = "binance"
# Polygon migrated MATIC to POL in 2024; Binance lists POLUSDT and no longer MATICUSDT.
_BASE_ALIASES = {"MATIC": "POL"}
_QUOTES = ("USDT", "USDC")
_MAX_SYMBOLS_PER_CALL = 100
_KLINES_PER_CALL = 1000
_WEIGHT_LIMIT_1M = 6000
_PAUSE_AT_SHARE = 0.9
_UNLISTED_RECHECK = 3600.0
_REQUEST_FAULTS = (-1121, -1120)  # invalid symbol, invalid interval

_KlineRow = tuple[int, Price, Price, Price, Price, Amount, int, Amount, int, Amount, Amount, Any]
_KLINES = TypeAdapter(list[_KlineRow])


class _Ticker(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symbol: str
    lastPrice: Amount
    priceChangePercent: Number
    quoteVolume: Amount
    closeTime: int


_TICKERS = TypeAdapter(list[_Ticker])
_ERROR = TypeAdapter(dict[str, Any])


class Pausable(Protocol):
    """What Binance needs of our upstream budgets: a way to stop calling for a while."""

    def pause_until(self, provider: str, until: float) -> None: ...


class BinanceAdapter:
    """Implements OhlcvHistory and PriceProvider over Binance's public market data.

    Every answer reports the request weight this IP used in the current minute
    (``X-MBX-USED-WEIGHT-1M``); near Binance's limit, calls pause until the minute turns,
    because overspending escalates from 429 to an IP ban (418).
    """

    name = NAME
    page_size = _KLINES_PER_CALL

    def __init__(self, client: UpstreamClient, clock: Clock, budgets: Pausable | None = None) -> None:
        self._client = client
        self._clock = clock
        self._budgets = budgets
        self._unlisted: dict[str, float] = {}  # market -> when to ask Binance about it again

    @property
    def enabled(self) -> bool:
        """Binance's public market data needs no key."""
        return True

    @staticmethod
    def market(symbol: Symbol) -> str:
        """Binance's name for a market, e.g. ``BTCUSDT``."""
        if symbol.quote not in _QUOTES:
            raise UpstreamRejected(NAME, f"Binance lists no {symbol.quote} market for {symbol.base}")
        return _BASE_ALIASES.get(symbol.base, symbol.base) + symbol.quote

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        """USDT and USDC markets not found unlisted within the last hour."""
        return symbol.quote in _QUOTES and self._listed(self.market(symbol))

    def lists(self, base: str) -> bool:
        """Whether ``base``/USDT was not found unlisted within the last hour."""
        return self._listed(self.market(Symbol(base, "USDT")))

    def _listed(self, market: str) -> bool:
        return self._unlisted.get(market, 0.0) <= self._clock.now()

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        """The ``limit`` most recent klines, the last one in progress."""
        rows = await self._klines(symbol, interval, {"limit": str(limit)})
        if not rows:
            raise BadPayload(NAME, "no candles in the answer")
        candles = _candles(rows[-limit:])
        return CandleSeries(symbol, interval, candles, NAME)

    async def fetch_ohlcv_range(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> CandleRange:
        """One page (at most 1000 klines) of ``[start_ms, end_ms)``, from ``start_ms`` on.

        A full page may have more after it: it covers up to past its last kline. Otherwise it
        covers the whole range, and a kline it lacks is one Binance does not have (before the
        listing, an outage); an empty answer is such a gap, not an error.
        """
        if end_ms <= start_ms:
            raise ValueError(f"empty range [{start_ms}, {end_ms})")
        params = {
            "startTime": str(start_ms),
            "endTime": str(end_ms - 1),  # Binance's endTime is inclusive, our ranges half-open
            "limit": str(_KLINES_PER_CALL),
        }
        candles = _candles(await self._klines(symbol, interval, params))
        if candles and not (start_ms <= candles[0].timestamp and candles[-1].timestamp < end_ms):
            raise BadPayload(NAME, f"klines outside [{start_ms}, {end_ms}) in the answer")
        covered_to = end_ms
        if len(candles) >= _KLINES_PER_CALL:  # a full page: more may follow
            covered_to = min(end_ms, candles[-1].timestamp + interval.milliseconds)
        return CandleRange(candles, CandleSpan(start_ms, covered_to))

    async def _klines(self, symbol: Symbol, interval: Interval, extra: dict[str, str]) -> list[_KlineRow]:
        """The rows of one klines call; a market Binance calls invalid is remembered as unlisted."""
        params = {"symbol": self.market(symbol), "interval": interval.name, **extra}
        response = await self._client.get("/api/v3/klines", params)
        try:
            self._raise_for_error(response)
        except UpstreamRejected as error:
            if error.reason.endswith("(-1121)"):
                self._unlisted[params["symbol"]] = self._clock.now() + _UNLISTED_RECHECK
            raise
        return decode(NAME, response, _KLINES)

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        """24h tickers for ``bases`` against USDT, asked in batches (never every symbol).

        Binance refuses a whole batch (-1121) when one market in it is not listed; such a
        batch is split until the unlisted markets are found, and those are left out of
        batches for an hour, so they are simply absent from the answer.
        """
        by_market = {self.market(Symbol(base, "USDT")): base for base in bases}
        markets = [m for m in by_market if self._listed(m)]
        tickers: list[_Ticker] = []
        for start in range(0, len(markets), _MAX_SYMBOLS_PER_CALL):
            tickers.extend(await self._tickers(markets[start : start + _MAX_SYMBOLS_PER_CALL]))
        quotes: dict[str, Quote] = {}
        for ticker in tickers:
            base = by_market.get(ticker.symbol)
            if base is None:
                raise BadPayload(NAME, f"answered for a symbol not asked for: {ticker.symbol}")
            if ticker.lastPrice == 0:
                continue  # no trade to price it by: no quote rather than a zero
            quotes[base] = Quote(
                symbol=base,
                name=display_name(base),
                price_usd=ticker.lastPrice,
                change_24h=ticker.priceChangePercent,
                volume_24h=ticker.quoteVolume,
                market_cap=None,
                last_update=ticker.closeTime / 1000,
                source=NAME,
            )
        if any(self._listed(m) for m in markets) and not quotes:
            raise BadPayload(NAME, "no tickers in the answer")
        return quotes

    async def _tickers(self, batch: list[str]) -> list[_Ticker]:
        params = {"symbols": json.dumps(batch, separators=(",", ":"))}
        response = await self._client.get("/api/v3/ticker/24hr", params)
        try:
            self._raise_for_error(response)
        except UpstreamRejected:
            if len(batch) == 1:
                self._unlisted[batch[0]] = self._clock.now() + _UNLISTED_RECHECK
                return []
            half = len(batch) // 2
            return [*await self._tickers(batch[:half]), *await self._tickers(batch[half:])]
        return decode(NAME, response, _TICKERS)

    def _raise_for_error(self, response: UpstreamResponse) -> None:
        self._watch_weight(response)
        if response.status == 200:
            return
        error: ProviderError = status_error(NAME, response)
        if response.status == 451:
            error = UpstreamBlocked(
                NAME,
                "geo-blocked by this host (451); set BINANCE_BASE_URL=https://data-api.binance.vision",
                retry_after=BLOCKED_PAUSE,
            )
        elif response.status == 400 and not response.looks_like_html:
            try:
                body = _ERROR.validate_json(response.body)
            except ValueError:
                body = {}
            message = f"{body.get('msg', 'bad request')} ({body.get('code')})"
            # Only "this market/interval does not exist" is the request's own fault; any other
            # 400 means we call Binance wrongly (a bug or a misconfigured base URL).
            error = (UpstreamRejected if body.get("code") in _REQUEST_FAULTS else BadPayload)(NAME, message)
        raise error

    def _watch_weight(self, response: UpstreamResponse) -> None:
        used = response.headers.get("X-MBX-USED-WEIGHT-1M")
        if self._budgets is None or used is None or not used.isdigit():
            return
        if int(used) >= _WEIGHT_LIMIT_1M * _PAUSE_AT_SHARE:
            self._budgets.pause_until(NAME, (int(self._clock.now()) // 60 + 1) * 60)


def _candles(rows: list[_KlineRow]) -> tuple[Candle, ...]:
    """Candles of kline rows, checked: low at most high, open times strictly increasing."""
    candles = tuple(Candle(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows)
    previous = None
    for candle in candles:
        if candle.low > candle.high or (previous is not None and candle.timestamp <= previous):
            raise BadPayload(NAME, f"inconsistent candle at {candle.timestamp}")
        previous = candle.timestamp
    return candles
