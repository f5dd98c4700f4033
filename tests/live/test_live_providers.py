"""The real adapters against the real providers. Skipped unless ``pytest --live`` is given;
they need the internet (and CoinCap a COINCAP_API_KEY in the environment)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.clock import SystemClock
from adapters.providers.alternative_me import AlternativeMeAdapter
from adapters.providers.binance import BinanceAdapter
from adapters.providers.coincap import CoinCapAdapter
from adapters.providers.coingecko import CoinGeckoAdapter
from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import UpstreamClient
from domain.interval import Interval
from domain.symbol import Symbol

pytestmark = pytest.mark.live
BTC = Symbol("BTC", "USDT")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as client:
        yield client


async def test_binance_klines(session: aiohttp.ClientSession) -> None:
    base = os.environ.get("BINANCE_BASE_URL", "https://data-api.binance.vision")
    adapter = BinanceAdapter(UpstreamClient(session, "binance", base), SystemClock())
    series = await adapter.fetch_ohlcv(BTC, Interval("1h"), 5)
    assert len(series.candles) == 5 and series.candles[-1].close > 0


async def test_kraken_ohlc(session: aiohttp.ClientSession) -> None:
    adapter = KrakenAdapter(UpstreamClient(session, "kraken", "https://api.kraken.com"), SystemClock())
    series = await adapter.fetch_ohlcv(BTC, Interval("1w"), 3)
    assert len(series.candles) == 3


async def test_coingecko_prices_and_global(session: aiohttp.ClientSession) -> None:
    adapter = CoinGeckoAdapter(UpstreamClient(session, "coingecko", "https://api.coingecko.com/api/v3"))
    quotes = await adapter.fetch_quotes(["BTC", "ETH"])
    assert quotes["BTC"].price_usd > 0
    assert (await adapter.fetch_overview()).total_market_cap > 0


async def test_coincap_assets(session: aiohttp.ClientSession) -> None:
    key = os.environ.get("COINCAP_API_KEY", "")
    if not key:
        pytest.skip("COINCAP_API_KEY not set")
    client = UpstreamClient(session, "coincap", "https://rest.coincap.io/v3", {"Authorization": f"Bearer {key}"})
    quotes = await CoinCapAdapter(client, key).fetch_quotes(["BTC"])
    assert quotes["BTC"].price_usd > 0


async def test_alternative_me_fear_greed(session: aiohttp.ClientSession) -> None:
    adapter = AlternativeMeAdapter(UpstreamClient(session, "alternative_me", "https://api.alternative.me"))
    history = await adapter.fetch_fear_greed(3)
    assert len(history.readings) == 3 and 0 <= history.readings[0].value <= 100
