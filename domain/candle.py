"""OHLCV candles and the series a provider returns for one market and interval."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidParameter
from domain.interval import Interval
from domain.symbol import Symbol


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar. ``timestamp`` is the bar's open time in epoch milliseconds."""

    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class CandleSeries:
    """Candles for one market and interval, oldest first, as answered by ``source``."""

    symbol: Symbol
    interval: Interval
    candles: tuple[Candle, ...]
    source: str


MAX_CANDLES = 1000
DEFAULT_CANDLES = 100


def check_limit(limit: int) -> int:
    """Return ``limit`` when it is a valid number of candles (1..1000), else raise."""
    if not 1 <= limit <= MAX_CANDLES:
        raise InvalidParameter(f"limit must be between 1 and {MAX_CANDLES}, got {limit}", field="limit")
    return limit
