"""The OhlcvProvider contract, for Binance, Kraken and the fake."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import ProviderError
from domain.interval import Interval
from domain.ports import OhlcvProvider
from domain.symbol import Symbol
from simulator import UpstreamSimulator
from tests.contract.conftest import Subject


def test_it_is_an_ohlcv_provider(ohlcv_subject: Subject) -> None:
    assert isinstance(ohlcv_subject.impl, OhlcvProvider)
    assert ohlcv_subject.impl.name == ohlcv_subject.name


@pytest.mark.parametrize("interval", ["1m", "1h", "1d", "1w"])
def test_a_listed_market_is_supported_without_a_call(
    ohlcv_subject: Subject, sim: UpstreamSimulator, interval: str
) -> None:
    for symbol in (Symbol("BTC", "USDT"), Symbol("ETH", "USDT"), Symbol("MATIC", "USDT")):
        assert ohlcv_subject.impl.supports(symbol, Interval(interval)) is True
    assert sum(sim.call_counts().values()) == 0  # a pure check: no I/O


@pytest.mark.parametrize("limit", [1, 100, 1000])
@pytest.mark.parametrize("interval", ["1m", "1h", "1d", "1w"])
async def test_candles_honour_the_contract(ohlcv_subject: Subject, interval: str, limit: int) -> None:
    symbol = Symbol("ETH", "USDT")
    series = await ohlcv_subject.impl.fetch_ohlcv(symbol, Interval(interval), limit)

    assert 1 <= len(series.candles) <= limit
    stamps = [c.timestamp for c in series.candles]
    assert all(earlier < later for earlier, later in itertools.pairwise(stamps))  # oldest first, no repeats
    for c in series.candles:
        assert c.low <= c.open <= c.high and c.low <= c.close <= c.high
        assert c.volume >= 0
    assert series.symbol == symbol
    assert series.interval == Interval(interval)
    assert series.source == ohlcv_subject.name


@pytest.mark.parametrize("symbol", [Symbol("BTC", "USDT"), Symbol("SOL", "USDT"), Symbol("MATIC", "USDT")])
async def test_the_series_echoes_the_requested_market(ohlcv_subject: Subject, symbol: Symbol) -> None:
    series = await ohlcv_subject.impl.fetch_ohlcv(symbol, Interval("1h"), 3)
    assert (series.symbol, series.interval, series.source) == (symbol, Interval("1h"), ohlcv_subject.name)


async def test_a_failing_provider_raises_a_provider_error(ohlcv_subject: Subject) -> None:
    ohlcv_subject.fail()
    with pytest.raises(ProviderError) as caught:
        await ohlcv_subject.impl.fetch_ohlcv(Symbol("BTC", "USDT"), Interval("1h"), 10)
    assert caught.value.provider == ohlcv_subject.name
