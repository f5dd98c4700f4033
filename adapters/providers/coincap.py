"""CoinCap v3 assets (needs an API key; v2 is shut down)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from adapters.providers.upstream import UpstreamClient, UpstreamResponse, decode, status_error
from adapters.providers.wire import Amount, Number
from domain.errors import BadPayload, ProviderDisabled
from domain.quote import Quote

NAME = "coincap"
IDS: dict[str, str] = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "SOL": "solana",
    "XRP": "xrp",
    "BNB": "binance-coin",
    "ADA": "cardano",
    "DOT": "polkadot",
    "LINK": "chainlink",
    "LTC": "litecoin",
    "BCH": "bitcoin-cash",
    "MATIC": "polygon",
    "AVAX": "avalanche",
    "XLM": "stellar",
    "TRX": "tron",
    "DOGE": "dogecoin",
}


class _Asset(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str
    priceUsd: Amount
    marketCapUsd: Amount | None = None
    volumeUsd24Hr: Amount | None = None
    changePercent24Hr: Number | None = None


class _Assets(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Asset]
    timestamp: int


_ASSETS = TypeAdapter(_Assets)
_ANY = TypeAdapter(Any)


def key_header(api_key: str) -> dict[str, str]:
    """The key header: CoinCap v3 takes its key as a bearer token."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class CoinCapAdapter:
    """Implements PriceProvider over CoinCap v3. Without an API key it is disabled."""

    name = NAME

    def __init__(self, client: UpstreamClient, api_key: str) -> None:
        self._client = client
        self._has_key = bool(api_key)

    @property
    def enabled(self) -> bool:
        """CoinCap v3 refuses keyless calls, so no key means disabled."""
        return self._has_key

    def lists(self, base: str) -> bool:
        """Whether the provider has an id for ``base``."""
        return base in IDS

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        """Prices for every base CoinCap lists, in one call."""
        if not self._has_key:
            raise ProviderDisabled(NAME, "no COINCAP_API_KEY configured")
        ids = {IDS[base]: base for base in bases if base in IDS}
        if not ids:
            return {}
        response = await self._client.get("/assets", {"ids": ",".join(ids)})
        self._raise_for_error(response)
        assets = decode(NAME, response, _ASSETS)
        quotes = {}
        for asset in assets.data:
            base = ids.get(asset.id)
            if base is None or asset.priceUsd == 0:
                continue  # not asked for, or no price: a zero is no quote
            quotes[base] = Quote(
                symbol=base,
                name=asset.name,
                price_usd=asset.priceUsd,
                change_24h=asset.changePercent24Hr,
                volume_24h=asset.volumeUsd24Hr,
                market_cap=asset.marketCapUsd,
                last_update=assets.timestamp / 1000,
                source=NAME,
            )
        if not quotes:
            raise BadPayload(NAME, "no usable price for any requested id")
        return quotes

    @staticmethod
    def _raise_for_error(response: UpstreamResponse) -> None:
        if response.status == 200:
            return
        if response.status == 429:
            message = _deprecation_message(response.body)
            if message:
                raise BadPayload(NAME, f"API version shut down: {message[:120]}")
        raise status_error(NAME, response)


def _deprecation_message(body: bytes) -> str | None:
    """The message of the shut-down v2 API, which answers 429 with it dressed as data."""
    try:
        parsed = _ANY.validate_json(body)
    except ValueError:
        return None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    message = data.get("message") if isinstance(data, dict) else None
    return message if isinstance(message, str) else None
