"""Kraken public REST: ``/0/public/OHLC``, ``/Ticker`` and ``/Time``.

Kraken answers ``{"error": [...], "result": {...}}`` with HTTP 200 even for errors and
rate limits; only its CDN speaks in HTTP status codes (Cloudflare HTML).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .error_pages import cloudflare_page
from .faults import COMMON_KINDS, Fault
from .formatting import fixed, positive_fixed, price_decimals
from .history import History
from .market import Market
from .timeframes import MINUTE, Timeframe
from .upstream import Rejection, Upstream, effects_of, json_answer

#: Interval in minutes -> timeframe. Kraken's weeks follow the epoch (a Thursday).
INTERVALS: dict[int, Timeframe] = {
    minutes: Timeframe(minutes * MINUTE) for minutes in (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
}

#: Canonical pair name (the result key) -> market asset.
PAIRS: dict[str, str] = {
    "XXBTZUSD": "BTC",
    "XETHZUSD": "ETH",
    "XXRPZUSD": "XRP",
    "XLTCZUSD": "LTC",
    "XXLMZUSD": "XLM",
    "XDGUSD": "DOGE",
    "SOLUSD": "SOL",
    "ADAUSD": "ADA",
    "DOTUSD": "DOT",
    "LINKUSD": "LINK",
    "BCHUSD": "BCH",
    "AVAXUSD": "AVAX",
    "TRXUSD": "TRX",
    "POLUSD": "MATIC",
    "XBTUSDT": "BTC",
    "ETHUSDT": "ETH",
    "XBTUSDC": "BTC",
    "ETHUSDC": "ETH",
}
#: Other names Kraken accepts for a pair (altnames, BTC for XBT, DOGE for XDG).
ALIASES: dict[str, str] = {
    "XBTUSD": "XXBTZUSD",
    "BTCUSD": "XXBTZUSD",
    "ETHUSD": "XETHZUSD",
    "XRPUSD": "XXRPZUSD",
    "LTCUSD": "XLTCZUSD",
    "XLMUSD": "XXLMZUSD",
    "DOGEUSD": "XDGUSD",
    "BTCUSDT": "XBTUSDT",
    "BTCUSDC": "XBTUSDC",
}
MAX_BARS = 720
#: 2013-10-06 00:00 UTC: no Kraken bar opens before this, whatever the interval.
HISTORY_START = 1_381_017_600
#: Share of an asset's market-wide daily volume traded on Kraken.
_VOLUME_SHARE = 0.03


def kraken_error(*messages: str) -> web.Response:
    """Kraken's error form: HTTP 200, ``{"error": [...]}`` and no ``result``."""
    return json_answer({"error": list(messages)})


def canonical_pair(pair: str) -> str | None:
    """The result key for ``pair``, or None if Kraken does not list it."""
    upper = pair.upper()
    upper = ALIASES.get(upper, upper)
    return upper if upper in PAIRS else None


class KrakenUpstream(Upstream):
    """Kraken, mounted at ``/kraken`` (the service's ``KRAKEN_BASE_URL``)."""

    name = "kraken"
    prefix = "/kraken"
    host = "api.kraken.com"
    fault_kinds = COMMON_KINDS | {"skew", "kraken_error", "last_as_string"}

    def __init__(self, market: Market, last_as_string: bool = False) -> None:
        super().__init__(market)
        self.last_as_string = last_as_string
        #: Outage gaps and listing times (per canonical pair; default: HISTORY_START).
        self.history = History(HISTORY_START)

    def routes(self) -> list[web.RouteDef]:
        """OHLC, Ticker and Time."""
        return [
            self.get("/0/public/OHLC", self.ohlc),
            self.get("/0/public/Ticker", self.ticker),
            self.get("/0/public/Time", self.time),
        ]

    def answer(self, fault: Fault, request: web.Request, path: str) -> web.Response:
        """Kraken's forms: errors in the body with HTTP 200, Cloudflare pages for 5xx."""
        kind = fault.kind
        if kind in ("http_500", "http_503"):
            return cloudflare_page(int(kind[-3:]), self.host)
        if kind == "rate_limit":
            return kraken_error("EGeneral:Too many requests")
        if kind == "kraken_error":
            return kraken_error(str(fault.params.get("message", "EService:Unavailable")))
        key = canonical_pair(request.query.get("pair", "")) or "XXBTZUSD"
        if kind == "empty":
            if path.startswith("/0/public/OHLC"):
                return json_answer({"error": [], "result": {key: [], "last": 0}})
            return json_answer({"error": [], "result": {}})
        if kind == "wrong_shape":
            return json_answer(self._wrong_shape(path, key))
        raise ValueError(f"kraken cannot answer fault {kind!r}")

    async def time(self, request: web.Request) -> web.Response:
        """Server time, as Unix seconds and RFC 1123 (with Kraken's two-digit year)."""
        now = self.market.now()
        moment = datetime.fromtimestamp(int(now), tz=UTC)
        rfc1123 = moment.strftime("%a, %d %b %y %H:%M:%S +0000")
        return json_answer({"error": [], "result": {"unixtime": int(now), "rfc1123": rfc1123}})

    async def ohlc(self, request: web.Request) -> web.Response:
        """The bars of the 720 most recent intervals (after ``since``, exclusive), oldest
        first: ``since`` cannot reach further back. Intervals in an outage or before the
        pair's listing have no bar."""
        query = request.query
        key = self._pair(query.get("pair", ""))
        try:
            minutes = int(query.get("interval", "1"))
            since = int(float(query["since"])) if query.get("since") else None
        except ValueError:
            raise Rejection(kraken_error("EGeneral:Invalid arguments")) from None
        timeframe = INTERVALS.get(minutes)
        if timeframe is None:
            raise Rejection(kraken_error("EGeneral:Invalid arguments"))
        effects = effects_of(request)
        now = self.market.now()
        current = timeframe.floor(now)
        opens = [t for t in self.window(key, timeframe, now) if since is None or t > since]
        rows = [self.row(PAIRS[key], timeframe, t, effects.skew) for t in opens]
        last = timeframe.shift(current, -1)
        as_string = self.last_as_string or effects.last_as_string
        result = {key: rows, "last": str(last) if as_string else last}
        return json_answer({"error": [], "result": result})

    async def ticker(self, request: web.Request) -> web.Response:
        """Ticker info for one or more comma-separated pairs."""
        pairs = [p for p in request.query.get("pair", "").split(",") if p]
        if not pairs:
            raise Rejection(kraken_error("EGeneral:Invalid arguments"))
        keys = [self._pair(pair) for pair in pairs]
        skew = effects_of(request).skew
        return json_answer({"error": [], "result": {key: self.ticker_fields(key, skew) for key in keys}})

    def _pair(self, pair: str) -> str:
        if not pair:
            raise Rejection(kraken_error("EGeneral:Invalid arguments"))
        key = canonical_pair(pair)
        if key is None:
            raise Rejection(kraken_error("EQuery:Unknown asset pair"))
        return key

    def row(self, asset: str, timeframe: Timeframe, open_time: int, skew: float) -> list[Any]:
        """One OHLC row ``[time, open, high, low, close, vwap, volume, count]`` (strings)."""
        candle = self.market.candle(asset, timeframe, open_time)
        places = price_decimals(self.market.price(asset), significant=6)

        def price(value: float) -> str:
            return fixed(value * skew, places)

        return [
            open_time,
            price(candle.open),
            price(candle.high),
            price(candle.low),
            price(candle.close),
            price(candle.vwap),
            positive_fixed(candle.volume, 8),
            candle.trades,
        ]

    def window(self, key: str, timeframe: Timeframe, now: float) -> list[int]:
        """Open times of the existing bars among the ``MAX_BARS`` most recent intervals of the
        pair ``key``, oldest first (the bar in progress included)."""
        current = timeframe.floor(now)
        oldest = timeframe.shift(current, -(MAX_BARS - 1))
        return list(self.history.forward(key, timeframe, oldest, current, now))

    def ticker_fields(self, key: str, skew: float) -> dict[str, Any]:
        """The REST ticker object of the pair ``key`` (the WebSocket ticker reuses it)."""
        asset = PAIRS[key]
        stats = self.market.day_stats(asset, self.name)
        places = price_decimals(self.market.price(asset), significant=6)

        def price(value: float) -> str:
            return fixed(value * skew, places)

        volume = positive_fixed(stats.volume_usd * _VOLUME_SHARE / stats.vwap, 8)
        trades = max(1, int(stats.trades * _VOLUME_SHARE))
        return {
            "a": [price(stats.last * 1.00001), "1", "1.000"],
            "b": [price(stats.last * 0.99999), "2", "2.000"],
            "c": [price(stats.last), fixed(100 / stats.last, 8)],
            "v": [volume, volume],
            "p": [price(stats.vwap), price(stats.vwap)],
            "t": [trades, trades],
            "l": [price(stats.low), price(stats.low)],
            "h": [price(stats.high), price(stats.high)],
            "o": price(stats.open),
        }

    def _wrong_shape(self, path: str, key: str) -> Any:
        now = int(self.market.now())
        if path.startswith("/0/public/OHLC"):
            return {"error": [], "result": {key: [[now - now % 60, "1.0", "1.0"]], "last": now}}
        if path.startswith("/0/public/Ticker"):
            return {"error": [], "result": {key: ["1.0", "1.0"]}}
        return {"error": [], "result": [now]}
