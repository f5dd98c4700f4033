"""The global crypto market overview."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarketOverview:
    """Totals for the whole crypto market in USD; ``updated_at`` is epoch seconds.

    Fields the provider did not publish are ``None``, never a made-up zero.
    """

    total_market_cap: float
    total_volume_24h: float
    btc_dominance: float | None
    eth_dominance: float | None
    active_coins: int
    markets: int | None
    market_cap_change_24h: float | None
    updated_at: float
    source: str
