"""Binance's request parameters: known symbols and intervals, validation with Binance's
own error codes, request weight, and which candles a klines request selects."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import islice

from aiohttp import web

from .history import History
from .timeframes import DAY, FIRST_MONDAY, HOUR, MINUTE, WEEK, Timeframe
from .upstream import Rejection, json_answer

INTERVALS: dict[str, Timeframe] = {
    "1s": Timeframe(1),
    "1m": Timeframe(MINUTE),
    "3m": Timeframe(3 * MINUTE),
    "5m": Timeframe(5 * MINUTE),
    "15m": Timeframe(15 * MINUTE),
    "30m": Timeframe(30 * MINUTE),
    "1h": Timeframe(HOUR),
    "2h": Timeframe(2 * HOUR),
    "4h": Timeframe(4 * HOUR),
    "6h": Timeframe(6 * HOUR),
    "8h": Timeframe(8 * HOUR),
    "12h": Timeframe(12 * HOUR),
    "1d": Timeframe(DAY),
    "3d": Timeframe(3 * DAY),
    "1w": Timeframe(WEEK, anchor=FIRST_MONDAY),
    "1M": Timeframe(30 * DAY, months=1),
}

#: Binance base asset per market asset: MATIC trades as POL (MATICUSDT is delisted).
BASES = {
    "BTC": "BTC",
    "ETH": "ETH",
    "SOL": "SOL",
    "XRP": "XRP",
    "BNB": "BNB",
    "ADA": "ADA",
    "DOT": "DOT",
    "LINK": "LINK",
    "LTC": "LTC",
    "BCH": "BCH",
    "MATIC": "POL",
    "AVAX": "AVAX",
    "XLM": "XLM",
    "TRX": "TRX",
    "DOGE": "DOGE",
}
#: Share of an asset's market-wide daily volume traded on each Binance quote.
QUOTE_SHARES = {"USDT": 0.30, "USDC": 0.05}
#: Known symbol -> market asset.
SYMBOLS: dict[str, str] = {base + quote: asset for asset, base in BASES.items() for quote in QUOTE_SHARES}
#: 2017-08-17 04:00 UTC, when Binance's history starts (BTCUSDT's first candle).
LISTED_SINCE = 1_502_942_400
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500

_SYMBOL = re.compile(r"^[A-Z0-9-_.]{1,20}$")
_SYMBOLS = re.compile(r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$')
_DIGITS = re.compile(r"^[0-9]{1,20}$")


def binance_error(code: int, msg: str, status: int = 400) -> web.Response:
    """Binance's error form: ``{"code": int, "msg": str}``."""
    return json_answer({"code": code, "msg": msg}, status=status)


def valid_symbol(symbol: str) -> str:
    """``symbol`` if it is well-formed (upper case...), else Binance's -1100."""
    if not _SYMBOL.match(symbol):
        raise illegal("symbol", _SYMBOL.pattern)
    return symbol


def illegal(name: str, legal: str) -> Rejection:
    """Binance's -1100 for a parameter outside its ``legal`` pattern."""
    return Rejection(
        binance_error(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")
    )


def request_weight(path: str, query: Mapping[str, str]) -> int:
    """Request weight as Binance documents it for the endpoints simulated here."""
    path = path.rstrip("/")
    if path == "/api/v3/klines":
        return 2
    if path not in ("/api/v3/ticker/24hr", "/api/v3/ticker/price"):
        return 1
    if "symbol" in query:
        return 2
    if path == "/api/v3/ticker/price":
        return 4
    if "symbols" not in query:
        return 80
    try:
        count = len(json.loads(query["symbols"]))
    except (ValueError, TypeError):
        return 2
    return 2 if count <= 20 else 40 if count <= 100 else 80


def required(query: Mapping[str, str], name: str) -> str:
    """The non-empty parameter ``name``, else Binance's -1102."""
    value = query.get(name, "")
    if not value:
        raise Rejection(
            binance_error(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        )
    return str(value)


def number(query: Mapping[str, str], name: str) -> int | None:
    """The unsigned integer parameter ``name`` (None when absent), else Binance's -1100."""
    if name not in query:
        return None
    value = query[name]
    if not _DIGITS.match(value):
        raise illegal(name, _DIGITS.pattern)
    return int(value)


def known_symbol(symbol: str) -> str:
    """The market asset traded as ``symbol``, else Binance's -1121."""
    if symbol not in SYMBOLS:
        raise Rejection(binance_error(-1121, "Invalid symbol."))
    return SYMBOLS[symbol]


def selection(query: Mapping[str, str]) -> str | list[str]:
    """``symbol`` alone, the ``symbols`` JSON array, or every symbol."""
    if "symbol" in query and "symbols" in query:
        raise Rejection(
            binance_error(
                -1128,
                "Combination of optional parameters invalid. Recommendation: 'symbol' and "
                "'symbols' cannot both be sent.",
            )
        )
    if "symbol" in query:
        symbol = valid_symbol(query["symbol"])
        known_symbol(symbol)
        return str(symbol)
    if "symbols" not in query:
        return list(SYMBOLS)
    raw = query["symbols"]
    if not _SYMBOLS.match(raw):
        # Binance rejects spaces too: json.dumps(["A", "B"]) needs separators=(",", ":").
        raise illegal("symbols", _SYMBOLS.pattern)
    symbols: list[str] = json.loads(raw)
    if len(set(symbols)) != len(symbols):
        raise Rejection(binance_error(-1101, "Duplicate values for parameter 'symbols'."))
    for symbol in symbols:
        known_symbol(symbol)
    return symbols


def open_times(
    timeframe: Timeframe,
    now: float,
    limit: int,
    start_ms: int | None,
    end_ms: int | None,
    history: History,
    symbol: str,
) -> list[int]:
    """Open times to return, as Binance selects them: a bar is eligible when its open time
    is within ``[startTime, endTime]`` (both inclusive) and it exists (listed, not wholly in
    an outage); then the oldest ``limit`` from ``startTime`` on, else the newest ``limit`` up
    to ``endTime`` (or now)."""
    current = timeframe.floor(now)
    last = current if end_ms is None else min(current, timeframe.floor(end_ms / 1000))
    if start_ms is not None:
        first = timeframe.ceil(start_ms / 1000)
        return list(islice(history.forward(symbol, timeframe, first, last, now), limit))
    return list(reversed(list(islice(history.backward(symbol, timeframe, last, now), limit))))
