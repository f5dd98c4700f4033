"""How a market is written in a candle store's key column."""

from __future__ import annotations

from domain.symbol import Symbol


def market_key(symbol: Symbol) -> str:
    """``BTC/USDT``: base and quote kept apart, so no two markets share a key."""
    return f"{symbol.base}/{symbol.quote}"
