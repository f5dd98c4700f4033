"""Subjects of the port contracts: every adapter (over HTTP against the simulator) and every
fake of ``tests/fakes.py`` that implements the port, behind one parametrised fixture per port.

A subject is the object under test plus a way to make it fail as its provider would, so a
contract can also say what failing looks like.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from adapters.providers.alternative_me import AlternativeMeAdapter
from adapters.providers.binance import BinanceAdapter
from adapters.providers.coincap import CoinCapAdapter
from adapters.providers.coingecko import CoinGeckoAdapter, key_header
from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import UpstreamClient
from domain.errors import ProviderUnavailable
from simulator import UpstreamSimulator
from tests.fakes import (
    FakeClock,
    FakeOhlcvProvider,
    FakeOverviewProvider,
    FakePriceProvider,
    FakeSentimentProvider,
)

#: Friday 2024-05-24 05:20:34.5 UTC: a fixed clock keeps every answer reproducible.
NOW = 1_716_528_034.5
COINCAP_KEY = "contract-key"


@dataclass
class Subject:
    """One implementation of a port, named as its ``name`` should read, and how to break it."""

    impl: Any
    name: str
    fail: Callable[[], None]


@pytest.fixture
async def sim() -> AsyncIterator[UpstreamSimulator]:
    async with UpstreamSimulator(now=lambda: NOW, seed=7) as simulator:
        yield simulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        yield http


def _client(
    sim: UpstreamSimulator,
    session: aiohttp.ClientSession,
    provider: str,
    headers: dict[str, str] | None = None,
) -> UpstreamClient:
    return UpstreamClient(session, provider, sim.base_urls[provider], headers)


def _server_error(sim: UpstreamSimulator, provider: str) -> Callable[[], None]:
    def fail() -> None:
        sim.set_fault(provider, "http_503")

    return fail


def _fake_error(fake: Any) -> Callable[[], None]:
    def fail() -> None:
        fake.error = ProviderUnavailable(fake.name, "down for the test")

    return fail


@pytest.fixture(params=["binance", "kraken", "fake"])
def ohlcv_subject(
    request: pytest.FixtureRequest, sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> Subject:
    """An OhlcvProvider."""
    kind = request.param
    if kind == "binance":
        return Subject(
            BinanceAdapter(_client(sim, session, "binance"), FakeClock()),
            "binance",
            _server_error(sim, "binance"),
        )
    if kind == "kraken":
        return Subject(
            KrakenAdapter(_client(sim, session, "kraken"), FakeClock()), "kraken", _server_error(sim, "kraken")
        )
    fake = FakeOhlcvProvider(name="fake-ohlcv")
    return Subject(fake, "fake-ohlcv", _fake_error(fake))


#: What the fake price provider lists (its own data; absent bases are unlisted).
FAKE_PRICES = {"BTC": 65_000.0, "ETH": 3_500.0, "SOL": 150.0, "BNB": 580.0, "MATIC": 0.55, "AVAX": 30.0}


@pytest.fixture(params=["coingecko", "coincap", "binance", "fake"])
def price_subject(
    request: pytest.FixtureRequest, sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> Subject:
    """A PriceProvider."""
    kind = request.param
    if kind == "coingecko":
        headers = key_header(sim.base_urls["coingecko"], "")
        return Subject(
            CoinGeckoAdapter(_client(sim, session, "coingecko", headers)),
            "coingecko",
            _server_error(sim, "coingecko"),
        )
    if kind == "coincap":
        client = _client(sim, session, "coincap", {"Authorization": f"Bearer {COINCAP_KEY}"})
        return Subject(CoinCapAdapter(client, COINCAP_KEY), "coincap", _server_error(sim, "coincap"))
    if kind == "binance":
        return Subject(
            BinanceAdapter(_client(sim, session, "binance"), FakeClock()),
            "binance",
            _server_error(sim, "binance"),
        )
    fake = FakePriceProvider(name="fake-prices", prices=dict(FAKE_PRICES))
    return Subject(fake, "fake-prices", _fake_error(fake))


@pytest.fixture(params=["coingecko", "fake"])
def overview_subject(
    request: pytest.FixtureRequest, sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> Subject:
    """A MarketOverviewProvider."""
    if request.param == "coingecko":
        return Subject(
            CoinGeckoAdapter(_client(sim, session, "coingecko")), "coingecko", _server_error(sim, "coingecko")
        )
    fake = FakeOverviewProvider(name="fake-overview")
    return Subject(fake, "fake-overview", _fake_error(fake))


@pytest.fixture(params=["alternative_me", "fake"])
def sentiment_subject(
    request: pytest.FixtureRequest, sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> Subject:
    """A SentimentProvider."""
    if request.param == "alternative_me":
        adapter = AlternativeMeAdapter(_client(sim, session, "alternative_me"))
        return Subject(adapter, "alternative_me", _server_error(sim, "alternative_me"))
    fake = FakeSentimentProvider(name="fake-sentiment")
    return Subject(fake, "fake-sentiment", _fake_error(fake))
