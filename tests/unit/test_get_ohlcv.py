"""GetOhlcv: validation before any upstream call, fallback, caching and stale-if-error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from application.get_ohlcv import GetOhlcv
from domain.candle import MAX_CANDLES
from domain.errors import (
    AllProvidersFailed,
    InvalidInterval,
    InvalidParameter,
    InvalidSymbol,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.fallback import UNKNOWN_RETRY_AFTER
from domain.interval import IntervalParser
from domain.symbol import SymbolParser
from tests.fakes import FakeOhlcvProvider
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, T0, Infrastructure, infrastructure

TTL = 300.0


@dataclass
class Setup:
    use_case: GetOhlcv
    binance: FakeOhlcvProvider
    kraken: FakeOhlcvProvider
    infra: Infrastructure


def setup(disabled: tuple[str, ...] = ()) -> Setup:
    binance, kraken = FakeOhlcvProvider("binance"), FakeOhlcvProvider("kraken")
    infra = infrastructure(["binance", "kraken"], disabled)
    use_case = GetOhlcv(
        SymbolParser(SUPPORTED_SYMBOLS),
        IntervalParser(SUPPORTED_INTERVALS),
        [binance, kraken],
        infra.calls,
        infra.read_through,
        TTL,
    )
    return Setup(use_case, binance, kraken, infra)


async def test_the_first_provider_answers() -> None:
    s = setup()
    served = await s.use_case.execute("btc-usdt", "1h", 100)
    series = served.value
    assert served.stale is False
    assert series.source == "binance"
    assert series.symbol.pair == "BTCUSDT"
    assert series.interval.name == "1h"
    assert len(series.candles) == 100
    # The provider is asked for the most it gives; the request gets the newest 100 of them.
    assert s.binance.calls == [("BTCUSDT", "1h", MAX_CANDLES)]
    assert s.kraken.calls == []
    hour_ms = series.interval.milliseconds
    assert series.candles[0].timestamp == 1_700_000_000_000 + (MAX_CANDLES - 100) * hour_ms
    assert series.candles[-1].timestamp == 1_700_000_000_000 + (MAX_CANDLES - 1) * hour_ms


async def test_interval_defaults_to_1h() -> None:
    s = setup()
    served = await s.use_case.execute("ETH", None, 5)
    assert s.binance.calls == [("ETHUSDT", "1h", MAX_CANDLES)]
    assert served.value.interval.name == "1h"
    assert len(served.value.candles) == 5


async def test_falls_back_to_the_next_provider_and_reports_its_source() -> None:
    s = setup()
    s.binance.error = UpstreamBlocked("binance", "HTTP 451 geo-blocked")
    served = await s.use_case.execute("BTC", "4h", 50)
    assert served.value.source == "kraken"
    assert len(served.value.candles) == 50
    assert s.binance.calls == [("BTCUSDT", "4h", MAX_CANDLES)]
    assert s.kraken.calls == [("BTCUSDT", "4h", MAX_CANDLES)]


async def test_a_market_the_first_provider_rejects_falls_back_too() -> None:
    s = setup()
    s.binance.error = UpstreamRejected("binance", "invalid symbol")
    assert (await s.use_case.execute("BTC", "1h", 10)).value.source == "kraken"


async def test_a_disabled_provider_is_skipped_without_a_call() -> None:
    s = setup(disabled=("binance",))
    assert (await s.use_case.execute("BTC", "1h", 10)).value.source == "kraken"
    assert s.binance.calls == []


@pytest.mark.parametrize(
    ("symbol", "interval", "limit", "error"),
    [
        ("DOGE", "1h", 100, InvalidSymbol),
        ("BTC/EUR", "1h", 100, InvalidSymbol),
        ("", "1h", 100, InvalidParameter),  # missing: a parameter error, not a bad symbol
        (None, "1h", 100, InvalidParameter),
        ("   ", "1h", 100, InvalidParameter),
        ("BTC", "2h", 100, InvalidInterval),
        ("BTC", "1M", 100, InvalidInterval),
        ("BTC", "30m", 100, InvalidInterval),
        ("BTC", "1h", 0, InvalidParameter),
        ("BTC", "1h", -1, InvalidParameter),
        ("BTC", "1h", 1001, InvalidParameter),
    ],
)
async def test_invalid_requests_are_refused_before_any_provider_call(
    symbol: str | None, interval: str, limit: int, error: type[Exception]
) -> None:
    s = setup()
    with pytest.raises(error):
        await s.use_case.execute(symbol, interval, limit)
    assert s.binance.calls == []
    assert s.kraken.calls == []


async def test_when_every_provider_fails_each_reason_is_listed() -> None:
    s = setup()
    s.binance.error = UpstreamBlocked("binance", "HTTP 451 geo-blocked")
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC", "1h", 100)
    assert caught.value.failures == {"binance": "HTTP 451 geo-blocked", "kraken": "HTTP 503"}


async def test_retry_after_is_the_soonest_any_provider_gave() -> None:
    s = setup()
    s.binance.error = UpstreamRateLimited("binance", "HTTP 429", retry_after=60)
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503", retry_after=15)
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC", "1h", 100)
    assert caught.value.retry_after == 15


async def test_retry_after_is_the_default_at_most_when_any_provider_gave_none() -> None:
    s = setup()
    s.binance.error = UpstreamRateLimited("binance", "HTTP 429", retry_after=60)
    s.kraken.error = ProviderUnavailable("kraken", "timed out")  # may recover any moment
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC", "1h", 100)
    # Issue 13: the soonest known time, capped by the default (it was None, meaning the default).
    assert caught.value.retry_after == UNKNOWN_RETRY_AFTER == 30.0


async def test_a_disabled_provider_is_named_when_all_fail() -> None:
    s = setup(disabled=("binance",))
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC", "1h", 100)
    assert set(caught.value.failures) == {"binance", "kraken"}
    assert s.binance.calls == []


async def test_a_second_identical_request_is_served_from_cache() -> None:
    s = setup()
    first = await s.use_case.execute("BTC", "1h", 100)
    second = await s.use_case.execute("BTCUSDT", "1H", 100)  # same market, other spelling
    assert second.value == first.value
    assert second.stale is False
    assert len(s.binance.calls) == 1


async def test_requests_that_differ_only_in_limit_share_one_upstream_call() -> None:
    s = setup()
    hundred = (await s.use_case.execute("BTC", "1h", 100)).value
    twenty = (await s.use_case.execute("BTC", "1h", 20)).value
    every = (await s.use_case.execute("BTC", "1h", MAX_CANDLES)).value
    assert s.binance.calls == [("BTCUSDT", "1h", MAX_CANDLES)]
    assert len(twenty.candles) == 20
    assert twenty.candles == hundred.candles[-20:]  # the newest 20 of the one cached series
    assert len(every.candles) == MAX_CANDLES
    assert every.candles[-100:] == hundred.candles


async def test_another_interval_or_market_is_another_upstream_call() -> None:
    s = setup()
    await s.use_case.execute("BTC", "1h", 100)
    await s.use_case.execute("BTC", "4h", 100)
    await s.use_case.execute("ETH", "1h", 100)
    assert s.binance.calls == [
        ("BTCUSDT", "1h", MAX_CANDLES),
        ("BTCUSDT", "4h", MAX_CANDLES),
        ("ETHUSDT", "1h", MAX_CANDLES),
    ]


async def test_a_provider_that_does_not_serve_the_market_is_skipped_without_a_call() -> None:
    s = setup()
    s.binance.serves = False
    served = await s.use_case.execute("BTC", "1h", 10)
    assert served.value.source == "kraken"
    assert s.binance.calls == []
    assert s.kraken.calls == [("BTCUSDT", "1h", MAX_CANDLES)]


async def test_a_skipped_provider_is_named_when_the_others_fail() -> None:
    s = setup()
    s.binance.serves = False
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC", "1h", 10)
    assert set(caught.value.failures) == {"binance", "kraken"}
    assert "BTCUSDT" in caught.value.failures["binance"]
    assert caught.value.rejected_only is False
    assert s.binance.calls == []


async def test_a_market_no_configured_provider_serves_is_an_invalid_symbol_before_any_call() -> None:
    s = setup()
    s.binance.serves = False
    s.kraken.serves = False
    with pytest.raises(InvalidSymbol) as caught:
        await s.use_case.execute("BTC", "1h", 10)
    assert caught.value.field == "symbol"
    assert s.binance.calls == [] and s.kraken.calls == []


async def test_a_market_every_provider_refuses_is_an_invalid_symbol_not_a_provider_failure() -> None:
    s = setup()
    s.binance.error = UpstreamRejected("binance", "Invalid symbol. (-1121)")
    s.kraken.error = UpstreamRejected("kraken", "EQuery:Unknown asset pair")
    with pytest.raises(InvalidSymbol) as caught:
        await s.use_case.execute("BTC", "1h", 10)
    assert caught.value.field == "symbol"
    assert isinstance(caught.value.__cause__, AllProvidersFailed)
    assert len(s.binance.calls) == 1 and len(s.kraken.calls) == 1


async def test_a_refusal_beside_a_provider_fault_stays_a_provider_failure() -> None:
    s = setup()
    s.binance.error = UpstreamRejected("binance", "Invalid symbol. (-1121)")
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC", "1h", 10)
    assert caught.value.rejected_only is False


async def test_after_the_ttl_a_stale_copy_is_served_when_every_provider_fails() -> None:
    s = setup()
    first = await s.use_case.execute("BTC", "1h", 100)
    s.infra.clock.advance(TTL + 1)
    s.binance.error = ProviderUnavailable("binance", "HTTP 503")
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503")
    served = await s.use_case.execute("BTC", "1h", 100)
    assert served.stale is True
    assert served.value == first.value
    assert served.fetched_at == T0
    assert len(s.binance.calls) == 2 and len(s.kraken.calls) == 1  # upstream was tried first


async def test_past_the_stale_window_the_failure_reaches_the_caller() -> None:
    s = setup()
    await s.use_case.execute("BTC", "1h", 100)
    s.infra.clock.advance(TTL + 3600 + 1)
    s.binance.error = ProviderUnavailable("binance", "HTTP 503")
    s.kraken.error = ProviderUnavailable("kraken", "HTTP 503")
    with pytest.raises(AllProvidersFailed):
        await s.use_case.execute("BTC", "1h", 100)
