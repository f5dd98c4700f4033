"""The global crypto market overview."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarketOverview:
    """Totals for the whole crypto market in USD; ``updated_at`` is epoch seconds."""

    total_market_cap: float
    total_volume_24h: float
    btc_dominance: float
    eth_dominance: float
    active_coins: int
    markets: int | None
    market_cap_change_24h: float | None
    updated_at: float
    source: str
