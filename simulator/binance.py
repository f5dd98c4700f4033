"""Binance spot public market data: ``/api/v3/klines``, ``/ticker/24hr``, ``/ticker/price``,
``/ping`` and ``/time``, with Binance's ``{"code","msg"}`` errors and request weight."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .binance_params import (
    BASES,
    DEFAULT_LIMIT,
    INTERVALS,
    LISTED_SINCE,
    MAX_LIMIT,
    QUOTE_SHARES,
    SYMBOLS,
    binance_error,
    known_symbol,
    number,
    open_times,
    request_weight,
    required,
    selection,
    valid_symbol,
)
from .faults import COMMON_KINDS, Fault
from .formatting import fixed, magnitude, positive_fixed, price_decimals
from .history import History
from .market import Market
from .request_weight import RequestWeight
from .timeframes import DAY, Timeframe
from .upstream import Rejection, Upstream, effects_of, json_answer

RATE_LIMIT_MSG = (
    "Too many requests; current limit of IP(127.0.0.1) request weight is 6000 request "
    "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid bans."
)
GEO_MSG = (
    "Service unavailable from a restricted location according to 'b. Eligibility' in "
    "https://www.binance.com/en/terms. Please contact customer service if you believe "
    "you received this message in error."
)


class BinanceUpstream(Upstream):
    """Binance spot, mounted at ``/binance`` (the service's ``BINANCE_BASE_URL``)."""

    name = "binance"
    prefix = "/binance"
    host = "api.binance.com"
    fault_kinds = COMMON_KINDS | {"skew", "ban_418", "geo_451", "waf_403"}

    def __init__(self, market: Market, weight_limit: int | None = 6000) -> None:
        super().__init__(market)
        self.weight = RequestWeight(market.now, weight_limit)
        #: Outage gaps and listing times (per symbol; default: BTCUSDT's first candle).
        self.history = History(LISTED_SINCE)

    def routes(self) -> list[web.RouteDef]:
        """Klines, 24-hour and price tickers, ping and time."""
        return [
            self.get("/api/v3/ping", self.ping),
            self.get("/api/v3/time", self.time),
            self.get("/api/v3/klines", self.klines),
            self.get("/api/v3/ticker/24hr", self.ticker_24hr),
            self.get("/api/v3/ticker/price", self.ticker_price),
        ]

    # -- hooks -------------------------------------------------------------------------

    def before(self, request: web.Request, path: str) -> None:
        """Count the request weight, as Binance does even for refused requests."""
        self.weight.add(request_weight(path, request.query))

    def admit(self, request: web.Request, path: str) -> web.Response | None:
        """429 once the minute's weight is over the limit."""
        if not self.weight.exceeded:
            return None
        return self._too_many(self.weight.seconds_to_reset())

    def finish(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every Binance answer carries the minute's used weight."""
        used = str(self.weight.used)
        response.headers["X-MBX-USED-WEIGHT"] = used
        response.headers["X-MBX-USED-WEIGHT-1M"] = used

    def answer(self, fault: Fault, request: web.Request, path: str) -> web.Response:
        """Binance's own forms for 5xx, 429, 418, 451, 403, empty and wrong shapes."""
        retry_after = int(fault.params.get("retry_after", 30))
        kind = fault.kind
        if kind == "http_500":
            return binance_error(-1000, "An unknown error occurred while processing the request.", 500)
        if kind == "http_503":
            return binance_error(
                -1008,
                "Server is currently overloaded with other requests. Please try again in a few minutes.",
                503,
            )
        if kind == "rate_limit":
            return self._too_many(retry_after)
        if kind == "ban_418":
            retry_after = int(fault.params.get("retry_after", 120))
            until = int((self.market.now() + retry_after) * 1000)
            response = binance_error(
                -1003,
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans.",
                418,
            )
            response.headers["Retry-After"] = str(retry_after)
            return response
        if kind == "geo_451":
            return binance_error(0, GEO_MSG, 451)
        if kind == "waf_403":
            return web.Response(status=403)
        if kind == "empty":
            return json_answer([])
        if kind == "wrong_shape":
            return json_answer(self._wrong_shape(path))
        raise ValueError(f"binance cannot answer fault {kind!r}")

    # -- handlers ----------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        """``{}``."""
        return json_answer({})

    async def time(self, request: web.Request) -> web.Response:
        """``{"serverTime": ms}``."""
        return json_answer({"serverTime": int(self.market.now() * 1000)})

    async def klines(self, request: web.Request) -> web.Response:
        """12-element candle rows, oldest first; the last one may be in progress."""
        query = request.query
        symbol = valid_symbol(required(query, "symbol"))
        interval = required(query, "interval")
        limit = number(query, "limit")
        start, end = number(query, "startTime"), number(query, "endTime")
        if limit is None:
            limit = DEFAULT_LIMIT
        elif not 1 <= limit <= MAX_LIMIT:
            raise Rejection(binance_error(-1130, "Data sent for parameter 'limit' is not valid."))
        if start is not None and end is not None and start > end:
            raise Rejection(binance_error(-1023, "Start time is greater than end time."))
        timeframe = INTERVALS.get(interval)
        if timeframe is None:
            raise Rejection(binance_error(-1120, "Invalid interval."))
        asset = known_symbol(symbol)
        opens = open_times(timeframe, self.market.now(), limit, start, end, self.history, symbol)
        return json_answer([self.kline_row(asset, timeframe, t, effects_of(request).skew) for t in opens])

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        """One object for ``symbol``, an array for ``symbols`` or for everything."""
        skew = effects_of(request).skew
        chosen = selection(request.query)
        if isinstance(chosen, str):
            return json_answer(self.ticker_fields(chosen, skew))
        return json_answer([self.ticker_fields(symbol, skew) for symbol in chosen])

    async def ticker_price(self, request: web.Request) -> web.Response:
        """``{"symbol","price"}`` for ``symbol``, an array otherwise."""
        skew = effects_of(request).skew
        chosen = selection(request.query)
        if isinstance(chosen, str):
            return json_answer(self._price(chosen, skew))
        return json_answer([self._price(symbol, skew) for symbol in chosen])

    # -- rendering ---------------------------------------------------------------------

    def kline_row(self, asset: str, timeframe: Timeframe, open_time: int, skew: float) -> list[Any]:
        """The 12-element klines row of one candle (the WebSocket kline event reuses it)."""
        candle = self.market.candle(asset, timeframe, open_time)
        reference = self.market.price(asset)
        price_places = price_decimals(reference)
        qty_places = min(8, max(0, magnitude(reference) + 1))

        def price(value: float) -> str:
            return fixed(value * skew, price_places, 8)

        def qty(value: float) -> str:
            return positive_fixed(value, qty_places, 8)

        taker = candle.volume * candle.taker_buy_ratio
        return [
            open_time * 1000,
            price(candle.open),
            price(candle.high),
            price(candle.low),
            price(candle.close),
            qty(candle.volume),
            candle.close_time * 1000 - 1,
            fixed(candle.volume * candle.vwap * skew, 8),
            candle.trades,
            qty(taker),
            fixed(taker * candle.vwap * skew, 8),
            "0",
        ]

    def ticker_fields(self, symbol: str, skew: float) -> dict[str, Any]:
        """The 24-hour ticker object of ``symbol`` (the miniTicker event reuses it)."""
        asset = SYMBOLS[symbol]
        stats = self.market.day_stats(asset, self.name)
        share = QUOTE_SHARES[symbol[len(BASES[asset]) :]]
        places = price_decimals(self.market.price(asset))
        qty_places = min(8, max(0, magnitude(self.market.price(asset)) + 1))

        def price(value: float) -> str:
            return fixed(value * skew, places, 8)

        def qty(value: float) -> str:
            return positive_fixed(value, qty_places, 8)

        now_ms = int(self.market.now() * 1000)
        volume_usd = stats.volume_usd * share
        trades = max(1, int(stats.trades * share))
        first_id = int(now_ms // 10) + len(symbol) * 10**11
        return {
            "symbol": symbol,
            "priceChange": price(stats.last - stats.open),
            "priceChangePercent": f"{stats.change_percent:.3f}",
            "weightedAvgPrice": price(stats.vwap),
            "prevClosePrice": price(stats.open),
            "lastPrice": price(stats.last),
            "lastQty": qty(100 / stats.last),
            "bidPrice": price(stats.last * 0.99999),
            "bidQty": qty(5_000 / stats.last),
            "askPrice": price(stats.last * 1.00001),
            "askQty": qty(4_000 / stats.last),
            "openPrice": price(stats.open),
            "highPrice": price(stats.high),
            "lowPrice": price(stats.low),
            "volume": qty(volume_usd / stats.vwap),
            "quoteVolume": fixed(volume_usd * skew, 8),
            "openTime": now_ms - DAY * 1000,
            "closeTime": now_ms,
            "firstId": first_id,
            "lastId": first_id + trades - 1,
            "count": trades,
        }

    def _price(self, symbol: str, skew: float) -> dict[str, str]:
        asset = SYMBOLS[symbol]
        value = self.market.spot(asset, self.name) * skew
        return {"symbol": symbol, "price": fixed(value, price_decimals(self.market.price(asset)), 8)}

    def _too_many(self, retry_after: int) -> web.Response:
        response = binance_error(-1003, RATE_LIMIT_MSG, 429)
        response.headers["Retry-After"] = str(retry_after)
        return response

    def _wrong_shape(self, path: str) -> Any:
        if path.startswith("/api/v3/klines"):
            return [[int(self.market.now() // 60) * 60_000, "1.00000000", "1.00000000"]]
        if path.startswith("/api/v3/ticker"):
            return {"symbol": "BTCUSDT", "price": "1.00000000"}
        return [{"unexpected": True}]
