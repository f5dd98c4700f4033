"""A candle as a candle store holds it: with the provider that served it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.candle import Candle


@dataclass(frozen=True, slots=True)
class StoredCandle:
    """A closed candle kept in the store, and the provider (``binance``, ...) it came from."""

    provider: str
    candle: Candle
