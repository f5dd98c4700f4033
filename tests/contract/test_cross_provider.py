"""Providers of the same port describe the same market: the simulator runs one market, so
Binance and Kraken candles (and every price provider's quotes) must agree within 1%."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.providers.binance import BinanceAdapter
from adapters.providers.coincap import CoinCapAdapter
from adapters.providers.coingecko import CoinGeckoAdapter
from adapters.providers.kraken import KrakenAdapter
from adapters.providers.upstream import UpstreamClient
from domain.candle import CandleSeries
from domain.interval import Interval
from domain.ports import PriceProvider
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from tests.contract.conftest import COINCAP_KEY
from tests.fakes import FakeClock

TOLERANCE = 0.01


def disagreements(a: CandleSeries, b: CandleSeries, fields: tuple[str, ...]) -> list[str]:
    """Where two series of the same market differ by more than ``TOLERANCE``."""
    by_time = {c.timestamp: c for c in b.candles}
    out = []
    for candle in a.candles:
        other = by_time[candle.timestamp]
        for field in fields:
            x, y = getattr(candle, field), getattr(other, field)
            if abs(x - y) > TOLERANCE * max(x, y):
                out.append(f"{candle.timestamp} {field}: {x} vs {y}")
    return out


def venues(sim: UpstreamSimulator, session: aiohttp.ClientSession) -> tuple[BinanceAdapter, KrakenAdapter]:
    return (
        BinanceAdapter(UpstreamClient(session, "binance", sim.base_urls["binance"]), FakeClock()),
        KrakenAdapter(UpstreamClient(session, "kraken", sim.base_urls["kraken"]), FakeClock()),
    )


@pytest.mark.parametrize("base", ["BTC", "ETH", "MATIC"])
@pytest.mark.parametrize("interval", ["5m", "1h", "1d", "1w"])
async def test_binance_and_kraken_candles_agree(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, base: str, interval: str
) -> None:
    binance, kraken = venues(sim, session)
    symbol = Symbol(base, "USDT")
    a = await binance.fetch_ohlcv(symbol, Interval(interval), 50)
    b = await kraken.fetch_ohlcv(symbol, Interval(interval), 50)

    # The same periods: the most recent ones, the one in progress last.
    assert [c.timestamp for c in a.candles] == [c.timestamp for c in b.candles]
    # Weekly bars: Binance serves its own, Kraken's are built from days whose wicks are drawn
    # separately, so only where a week opens and closes is the same fact on both.
    fields = ("open", "close") if interval == "1w" else ("open", "high", "low", "close")
    assert disagreements(a, b, fields) == []


async def test_the_agreement_check_catches_a_venue_off_by_five_percent(
    sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    binance, kraken = venues(sim, session)
    sim.set_fault("binance", "skew", factor=1.05)
    a = await binance.fetch_ohlcv(Symbol("BTC", "USDT"), Interval("1h"), 10)
    b = await kraken.fetch_ohlcv(Symbol("BTC", "USDT"), Interval("1h"), 10)
    assert len(disagreements(a, b, ("close",))) == 10


async def test_price_providers_agree(sim: UpstreamSimulator, session: aiohttp.ClientSession) -> None:
    bases = ["BTC", "ETH", "SOL", "BNB", "MATIC", "AVAX", "XRP"]
    providers: list[PriceProvider] = [
        CoinGeckoAdapter(UpstreamClient(session, "coingecko", sim.base_urls["coingecko"])),
        CoinCapAdapter(
            UpstreamClient(
                session, "coincap", sim.base_urls["coincap"], {"Authorization": f"Bearer {COINCAP_KEY}"}
            ),
            COINCAP_KEY,
        ),
        BinanceAdapter(UpstreamClient(session, "binance", sim.base_urls["binance"]), FakeClock()),
    ]
    answers = [await p.fetch_quotes(bases) for p in providers]
    for base in bases:
        prices = [answer[base].price_usd for answer in answers]
        assert max(prices) <= min(prices) * (1 + TOLERANCE), (base, prices)
        assert min(prices) == pytest.approx(sim.price(base), rel=TOLERANCE)
