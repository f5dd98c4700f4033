"""One page of a market's history as a provider answers a range: candles and what they cover."""

from __future__ import annotations

from dataclasses import dataclass

from domain.candle import Candle
from domain.candle_span import CandleSpan


@dataclass(frozen=True, slots=True)
class CandleRange:
    """Candles a provider answered for ``[start_ms, end_ms)``, oldest first, and ``covering``:
    the part of the range whose candles are all here, so an open time inside it without a
    candle is a gap the exchange really has.

    ``covering`` starts after ``start_ms`` when the provider cannot reach that far back (Kraken
    keeps its last 720 bars), ends before ``end_ms`` when the page was full (Binance answers at
    most 1000 bars a call: the rest of the range needs another call), and is None when the
    provider can reach none of the range. Candles outside ``covering`` are not in it.
    """

    candles: tuple[Candle, ...]
    covering: CandleSpan | None
