"""Candle rows written directly are exactly what the ``schemas.Candle`` model makes of them."""

from __future__ import annotations

from domain.candle import Candle
from entrypoints.rest import schemas
from entrypoints.rest.rendering import candle_rows


def test_rows_match_the_model_dump() -> None:
    candles = [Candle(1_700_000_000_000, 42_283.6, 42_300.01, 42_100.5, 42_250.0, 12.345678), Candle(0, 1e-8, 2.0, 0.5, 1.5, 0.0)]
    expected = [
        schemas.Candle(timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close, volume=c.volume).body()
        for c in candles
    ]
    assert candle_rows(candles) == expected
    assert list(candle_rows(candles)[0]) == list(expected[0])  # the same keys in the same order
