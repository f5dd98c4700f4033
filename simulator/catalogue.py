"""The assets the simulated market knows, with plausible reference figures.

Venue-specific names (Binance symbols, Kraken pairs, CoinGecko and CoinCap ids) live
with each venue; this table only holds what is true of the asset itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Asset:
    """One crypto asset of the simulated market.

    ``symbol`` is the canonical base symbol (``MATIC`` stands for MATIC and its successor
    POL, listed in ``aliases``). ``price_usd`` is the default "true" price, which
    ``Market.set_price`` can override. Supplies are in units of the asset;
    ``volume_usd_24h`` is the whole market's daily turnover, shared out between venues.
    """

    symbol: str
    price_usd: float
    circulating_supply: float
    max_supply: float | None
    volume_usd_24h: float
    aliases: tuple[str, ...] = ()


ASSETS: tuple[Asset, ...] = (
    Asset("BTC", 65_000.0, 19_700_000, 21_000_000, 30e9),
    Asset("ETH", 3_500.0, 120_100_000, None, 15e9),
    Asset("SOL", 150.0, 465_000_000, None, 3e9),
    Asset("XRP", 0.52, 55_500_000_000, 100_000_000_000, 1.5e9),
    Asset("BNB", 580.0, 147_600_000, 200_000_000, 1.5e9),
    Asset("ADA", 0.45, 35_600_000_000, 45_000_000_000, 4e8),
    Asset("DOT", 6.5, 1_450_000_000, None, 2e8),
    Asset("LINK", 14.5, 587_000_000, 1_000_000_000, 4e8),
    Asset("LTC", 80.0, 74_800_000, 84_000_000, 4e8),
    Asset("BCH", 450.0, 19_700_000, 21_000_000, 3e8),
    Asset("MATIC", 0.55, 9_900_000_000, 10_000_000_000, 2.5e8, aliases=("POL",)),
    Asset("AVAX", 30.0, 393_000_000, 720_000_000, 4e8),
    Asset("XLM", 0.11, 29_200_000_000, 50_000_000_000, 1e8),
    Asset("TRX", 0.12, 87_500_000_000, None, 4e8),
    Asset("DOGE", 0.15, 144_000_000_000, None, 1e9),
)
