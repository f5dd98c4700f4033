"""The provider registry: every provider the service knows, and all it declares.

Adding a provider is its adapter module (``adapters/providers/``), one entry here, its
simulator module (``simulator/``) and its tests. Settings, the container, the sandbox and
health read this tuple; nothing else names a provider. The order is health's order.
"""

from __future__ import annotations

from adapters.providers import alternative_me, binance, coincap, coingecko, kraken
from adapters.streams.binance import binance_stream
from adapters.streams.kraken import kraken_stream
from entrypoints.registry.entry import Capability, ProviderEntry

PROVIDERS: tuple[ProviderEntry, ...] = (
    ProviderEntry(
        id=binance.NAME,
        serves=(Capability.OHLCV, Capability.PRICES, Capability.STREAMS),
        base_url="https://api.binance.com",
        budget="4800/minute",
        cost=2,  # the request weight of a klines or a ticker call (≤20 symbols)
        build=lambda parts: binance.BinanceAdapter(parts.client(), parts.clock, budgets=parts.budgets),
        simulator="binance",
        ws_url="wss://data-stream.binance.vision",  # market data only; the service opens {url}/stream
        stream=lambda parts: binance_stream(parts.session, parts.ws_url, parts.clock),
    ),
    ProviderEntry(
        id=kraken.NAME,
        serves=(Capability.OHLCV, Capability.STREAMS),
        base_url="https://api.kraken.com",
        budget="10/10 seconds",
        build=lambda parts: kraken.KrakenAdapter(parts.client(), parts.clock),
        simulator="kraken",
        ws_url="wss://ws.kraken.com/v2",  # opened as it is
        stream=lambda parts: kraken_stream(parts.session, parts.ws_url, parts.clock),
    ),
    ProviderEntry(
        id=coingecko.NAME,
        serves=(Capability.PRICES, Capability.OVERVIEW),
        base_url="https://api.coingecko.com/api/v3",
        budget="10/minute",
        api_key=True,  # optional: keyless calls work at a lower rate
        build=lambda parts: coingecko.CoinGeckoAdapter(
            parts.client(coingecko.key_header(parts.base_url, parts.api_key))
        ),
        simulator="coingecko",
    ),
    ProviderEntry(
        id=coincap.NAME,
        serves=(Capability.PRICES,),
        base_url="https://rest.coincap.io/v3",
        budget="100/minute",
        api_key=True,  # required: without one the adapter reports itself disabled
        build=lambda parts: coincap.CoinCapAdapter(parts.client(coincap.key_header(parts.api_key)), parts.api_key),
        simulator="coincap",
        sandbox_key="sandbox",  # the simulator takes any non-empty key: all providers live
    ),
    ProviderEntry(
        id=alternative_me.NAME,
        serves=(Capability.SENTIMENT,),
        base_url="https://api.alternative.me",
        budget="50/minute",
        build=lambda parts: alternative_me.AlternativeMeAdapter(parts.client()),
        simulator="alternative_me",
    ),
)


def capable(capability: Capability) -> tuple[str, ...]:
    """The ids of the providers that can serve ``capability``, in registry order."""
    return tuple(entry.id for entry in PROVIDERS if capability in entry.serves)
