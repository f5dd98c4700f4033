"""CoinGecko v3: simple/price for many ids in one call, and /global."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, TypeAdapter

from adapters.providers.upstream import UpstreamClient, UpstreamResponse, decode, status_error
from adapters.providers.wire import Amount, Number
from domain.asset import display_name
from domain.errors import BadPayload, UpstreamRateLimited
from domain.market import MarketOverview
from domain.quote import Quote

NAME = "coingecko"
IDS: dict[str, str] = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "SOL": "solana",
    "XRP": "ripple",
    "BNB": "binancecoin",
    "ADA": "cardano",
    "DOT": "polkadot",
    "LINK": "chainlink",
    "LTC": "litecoin",
    "BCH": "bitcoin-cash",
    "MATIC": "matic-network",
    "POL": "polygon-ecosystem-token",
    "AVAX": "avalanche-2",
    "XLM": "stellar",
    "TRX": "tron",
    "DOGE": "dogecoin",
}


class _SimplePrice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    usd: Amount | None = None
    usd_market_cap: Amount | None = None
    usd_24h_vol: Amount | None = None
    usd_24h_change: Number | None = None
    last_updated_at: int | None = None


_PRICES = TypeAdapter(dict[str, _SimplePrice])


class _Global(BaseModel):
    model_config = ConfigDict(extra="ignore")
    active_cryptocurrencies: int
    markets: int | None = None
    total_market_cap: dict[str, Amount]
    total_volume: dict[str, Amount]
    market_cap_percentage: dict[str, Number]
    market_cap_change_percentage_24h_usd: Number | None = None
    updated_at: int


class _GlobalEnvelope(BaseModel):
    data: _Global


_GLOBAL = TypeAdapter(_GlobalEnvelope)


def key_header(base_url: str, api_key: str) -> dict[str, str]:
    """The key header: pro keys go to the pro host, demo keys to the public one."""
    if not api_key:
        return {}
    header = "x-cg-pro-api-key" if "pro-api.coingecko.com" in base_url else "x-cg-demo-api-key"
    return {header: api_key}


class CoinGeckoAdapter:
    """Implements PriceProvider and MarketOverviewProvider over CoinGecko v3."""

    name = NAME

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    @property
    def enabled(self) -> bool:
        """CoinGecko's public API works without a key (at a lower rate)."""
        return True

    def lists(self, base: str) -> bool:
        """Whether the provider has an id for ``base``."""
        return base in IDS

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        """Prices for every base CoinGecko knows, in one call."""
        ids = {IDS[base]: base for base in bases if base in IDS}
        if not ids:
            return {}
        response = await self._client.get(
            "/simple/price",
            {
                "ids": ",".join(ids),
                "vs_currencies": "usd",
                "include_market_cap": "true",
                "include_24hr_vol": "true",
                "include_24hr_change": "true",
                "include_last_updated_at": "true",
            },
        )
        self._raise_for_error(response)
        prices = decode(NAME, response, _PRICES)
        quotes = {}
        for coin_id, entry in prices.items():
            base = ids.get(coin_id)
            if base is None or not entry.usd or entry.last_updated_at is None:
                continue  # unknown ids are silently absent; a null or zero price is no price
            quotes[base] = Quote(
                symbol=base,
                name=display_name(base),
                price_usd=entry.usd,
                change_24h=entry.usd_24h_change,
                volume_24h=entry.usd_24h_vol,
                market_cap=entry.usd_market_cap,
                last_update=float(entry.last_updated_at),
                source=NAME,
            )
        if not quotes:
            raise BadPayload(NAME, "no usable price for any requested id")
        return quotes

    async def fetch_overview(self) -> MarketOverview:
        """Totals from /global."""
        response = await self._client.get("/global")
        self._raise_for_error(response)
        data = decode(NAME, response, _GLOBAL).data
        try:
            cap, volume = data.total_market_cap["usd"], data.total_volume["usd"]
        except KeyError:
            raise BadPayload(NAME, "no USD totals in /global") from None
        return MarketOverview(
            total_market_cap=cap,
            total_volume_24h=volume,
            btc_dominance=data.market_cap_percentage.get("btc"),  # absent stays absent, not 0%
            eth_dominance=data.market_cap_percentage.get("eth"),
            active_coins=data.active_cryptocurrencies,
            markets=data.markets,
            market_cap_change_24h=data.market_cap_change_percentage_24h_usd,
            updated_at=float(data.updated_at),
            source=NAME,
        )

    @staticmethod
    def _raise_for_error(response: UpstreamResponse) -> None:
        if response.status == 200:
            return
        error = status_error(NAME, response)
        if isinstance(error, UpstreamRateLimited) and response.retry_after is None:
            error = UpstreamRateLimited(NAME, error.reason, retry_after=60.0)
        raise error
