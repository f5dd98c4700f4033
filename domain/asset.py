"""Display names of the assets this service knows, for providers that publish none."""

from __future__ import annotations

ASSET_NAMES: dict[str, str] = {
    "BTC": "Bitcoin",
    "ETH": "Ethereum",
    "SOL": "Solana",
    "XRP": "XRP",
    "BNB": "BNB",
    "ADA": "Cardano",
    "DOT": "Polkadot",
    "LINK": "Chainlink",
    "LTC": "Litecoin",
    "BCH": "Bitcoin Cash",
    "MATIC": "Polygon",
    "POL": "POL (ex-MATIC)",
    "AVAX": "Avalanche",
    "XLM": "Stellar",
    "TRX": "TRON",
    "DOGE": "Dogecoin",
}


def display_name(base: str) -> str:
    """The asset's common name, or its ticker when the asset is not in the table."""
    return ASSET_NAMES.get(base, base)
