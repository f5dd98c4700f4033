"""Indicator values per candle, as served."""

from __future__ import annotations

from dataclasses import dataclass

from domain.interval import Interval
from domain.symbol import Symbol

#: One indicator's value at a candle: a number, None where it has none, or, for a function with
#: several outputs, those by TA-Lib's output names.
IndicatorValue = float | None | dict[str, float | None]


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    """The indicators at one candle (by its open time), keyed as requested (``rsi_14``)."""

    timestamp: int
    values: dict[str, IndicatorValue]


@dataclass(frozen=True, slots=True)
class IndicatorTable:
    """Rows oldest first, computed over ``warmup`` candles before the first row and the rows'
    own candles, as ``source`` served them."""

    symbol: Symbol
    interval: Interval
    rows: tuple[IndicatorRow, ...]
    warmup: int
    source: str
