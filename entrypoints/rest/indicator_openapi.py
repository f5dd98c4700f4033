"""Indicators in the OpenAPI document: the query of ``/api/indicators``, the syntax, and the
function names the engine offers (passed in, read from the engine at run time: never a list
kept by hand)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.candle import DEFAULT_CANDLES, MAX_CANDLES
from domain.indicators import MAX_INDICATORS
from domain.time_range import MAX_RANGE_CANDLES

Query = Callable[..., dict[str, Any]]

INDICATORS_DESCRIPTION = f"""Any TA-Lib function whose inputs are candle fields (open, high, low, close,
volume), computed over the candles `/api/ohlcv` serves. `indicators` is a comma list of up to
{MAX_INDICATORS}, each a function's TA-Lib name in lower case with its parameters in TA-Lib's order after
colons: `rsi:14`, `macd:12:26:9`, `bbands:20:2:2` (`timeperiod`, `nbdevup`, `nbdevdn`; the omitted
`matype` keeps TA-Lib's default), `atr` (every parameter TA-Lib's default).

Each row of `data` is one candle, oldest first: `timestamp` (its open time) and one key per indicator,
the indicator as requested with `:` replaced by `_` (`rsi:14` → `rsi_14`, `atr` → `atr`). A function
with one output gives a number; one with several gives an object keyed by TA-Lib's output names
(`macd_12_26_9`: `macd`, `macdsignal`, `macdhist`); candlestick patterns give TA-Lib's integers
(-100, 0, 100) as numbers. A value TA-Lib does not give is `null`, never a made-up number.

`warmup` is how many candles before the first row went into the computation: TA-Lib's lookback, plus,
for indicators with exponential smoothing, ten times their longest period so the history left out no
longer matters. So every row has its values, and TA-Lib over the `limit + warmup` candles of
`/api/ohlcv?limit=<limit + warmup>` gives the same numbers (the first row is the candle at index
`warmup`). Up to {MAX_CANDLES} candles come from the latest candles, more from the history ranges; at most
{MAX_RANGE_CANDLES} in all.

Bad input is a 400 INVALID_PARAMETER with `details.field` naming the parameter, before any upstream call:
an unknown function (or one that takes more than candles, such as `mavp`), more parameters than it
has, a non-integer where it takes an integer, a value TA-Lib refuses (a period of 0, a moving-average
type out of range), more than {MAX_INDICATORS} indicators, or a warm-up that needs more than
{MAX_RANGE_CANDLES} candles. Counts against the client's `ohlcv` limit."""


def indicator_parameters(
    query: Query, symbol: dict[str, Any], interval: dict[str, Any], functions: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The query of ``/api/indicators``; ``functions``: the names the engine offers."""
    listed = ", ".join(f"`{name}`" for name in functions)
    return [
        symbol,
        query("interval", "Candle interval.", interval),
        query("timeframe", "Alias of `interval`, used when `interval` is absent.", interval),
        query("limit", f"Rows (the newest candles): 1..{MAX_CANDLES}, default {DEFAULT_CANDLES}.",
              {"type": "integer", "minimum": 1, "maximum": MAX_CANDLES}),  # fmt: skip
        query(
            "indicators",
            f"Comma list of up to {MAX_INDICATORS} indicators, `name[:param[:param...]]`, parameters in "
            f"TA-Lib's order (omitted ones take TA-Lib's defaults). Functions ({len(functions)}): {listed}.",
            {"type": "string", "minLength": 1,
             "examples": ["rsi:14,ema:50,macd:12:26:9,bbands:20:2:2", "atr,obv,mfi:14,cdldoji"]},
            required=True,
        ) | {"x-indicator-functions": list(functions)},  # the same names, for machines
    ]
