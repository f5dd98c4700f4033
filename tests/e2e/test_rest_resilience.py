"""Provider faults over real HTTP: fallback, 503s, stale-if-error, circuits and cool-downs.

Every fault the simulator offers for a provider is tried; expected answers come from
../shared/API.md, README.md and PROVIDERS.md, and expected data from the simulator's own
answers. The service runs on a fake clock (``start_on_clock``): recovery tests advance it past
a TTL, a CIRCUIT_BREAKER_TIMEOUT or a Retry-After instead of sleeping, while request timeouts
and slow answers stay real. Nothing here asserts how fast anything is, except that a hanging
primary must not cost two REQUEST_TIMEOUTs.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import (
    FIXED_NOW,
    PRICE_PROVIDERS,
    current_open_ms,
    data_of,
    error_of,
    health_of,
    kraken_candles,
    matrix,
    median,
    provider_error,
    provider_prices,
    upstream,
)

# Fixtures shared with the other REST suites (no conftest of our own): the frozen-clock
# simulator (it replaces tests/conftest.py's here), and ``start`` on the fake ``clock``.
simulator = support.simulator
clock = support.clock
start = support.start_on_clock

OHLCV = "/api/ohlcv?symbol=BTC&interval=1h&limit={limit}"
#: Markets every simulated exchange lists: requests for different ones never share a cache
#: entry or an upstream call, whatever the cache keys look like.
MARKETS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOT", "LINK", "LTC", "BCH", "AVAX", "XLM", "TRX")


def market(i: int) -> str:
    """An OHLCV request for the ``i``-th distinct market."""
    return f"/api/ohlcv?symbol={MARKETS[i]}&interval=1h&limit=5"


# -- OHLCV: Binance faults fall back to Kraken ------------------------------------------------


@pytest.mark.parametrize(("provider", "kind", "params"), matrix("binance"))
async def test_ohlcv_falls_back_to_kraken_when_binance_fails(start, simulator, provider, kind, params):
    service = await start()
    simulator.set_fault(provider, kind, **params)
    body = await data_of(await service.get(OHLCV.format(limit=50)))
    assert body["source"] == "kraken"
    assert body["symbol"] == "BTCUSDT" and body["interval"] == "1h" and body["count"] == 50
    # Tried once; a dropped keep-alive connection may be re-sent once by the HTTP client.
    assert simulator.calls("binance") in ((1,) if kind != "connection_reset" else (1, 2))
    # The same shape, the most recent Kraken bars (USDT is answered from Kraken's USD market).
    assert body["data"] == (await kraken_candles(simulator, "XBTUSD", 60))[-50:]
    assert body["data"][-1]["timestamp"] == current_open_ms("1h")
    entry = await health_of(service, "binance")
    assert entry["errorMessage"], entry
    # One failed call, below the 3 that make a provider offline and the breaker's threshold.
    assert entry["status"] == "degraded", entry


@pytest.mark.parametrize(("provider", "kind", "params"), matrix("kraken"))
async def test_ohlcv_503_naming_both_providers_when_both_fail(start, simulator, provider, kind, params):
    service = await start()
    simulator.set_fault("binance", "http_500")
    simulator.set_fault(provider, kind, **params)
    error = await provider_error(await service.get(OHLCV.format(limit=50)), {"binance", "kraken"})
    assert "data" not in error
    # Tried once; a dropped keep-alive connection may be re-sent once by the HTTP client.
    assert simulator.calls("kraken") in ((1,) if kind != "connection_reset" else (1, 2))


@pytest.mark.parametrize(
    ("symbol", "pair", "interval", "minutes"),
    [("ETH", "ETHUSD", "1m", 1), ("XRP", "XRPUSD", "5m", 5), ("MATIC", "POLUSD", "15m", 15),
     ("SOL", "SOLUSD", "4h", 240), ("LTC", "LTCUSD", "1d", 1440), ("BTC/USDC", "XBTUSDC", "1h", 60)],
    ids=["eth-1m", "xrp-5m", "matic-15m", "sol-4h", "ltc-1d", "btcusdc-1h"],
)  # fmt: skip
async def test_kraken_fallback_for_other_markets_and_intervals(
    start, simulator, symbol, pair, interval, minutes
):
    """Kraken's answer is keyed by its canonical pair name (XXRPZUSD...), BTC is XBT, MATIC is POL."""
    service = await start()
    simulator.set_fault("binance", "http_503")
    body = await data_of(
        await service.get("/api/ohlcv", params={"symbol": symbol, "interval": interval, "limit": "7"})
    )
    assert body["source"] == "kraken" and body["interval"] == interval and body["count"] == 7
    assert body["data"] == (await kraken_candles(simulator, pair, minutes))[-7:]
    assert body["data"][-1]["timestamp"] == current_open_ms(interval)


async def test_kraken_last_as_string_is_still_data(start, simulator):
    """PROVIDERS.md: Kraken's ``last`` may be a string; it is not a failure."""
    service = await start()
    simulator.set_fault("binance", "http_500")
    simulator.set_fault("kraken", "last_as_string")
    body = await data_of(await service.get(OHLCV.format(limit=10)))
    assert body["source"] == "kraken"
    assert body["data"] == (await kraken_candles(simulator, "XBTUSD", 60))[-10:]


async def test_kraken_answers_at_most_its_720_newest_bars(start, simulator):
    service = await start()
    simulator.set_fault("binance", "http_503")
    body = await data_of(await service.get(OHLCV.format(limit=1000)))
    assert body["source"] == "kraken"
    assert body["count"] == 720 == len(body["data"])
    assert body["data"] == await kraken_candles(simulator, "XBTUSD", 60)


async def test_kraken_weekly_candles_open_on_monday(start, simulator):
    service = await start()
    simulator.set_fault("binance", "http_500")
    body = await data_of(await service.get("/api/ohlcv?symbol=ETH&interval=1w&limit=4"))
    assert body["source"] == "kraken" and body["interval"] == "1w"
    week = 7 * 86_400_000
    assert [c["timestamp"] for c in body["data"]] == [current_open_ms("1w") - week * b for b in (3, 2, 1, 0)]
    daily = await kraken_candles(simulator, "ETHUSD", 1440)
    for candle in body["data"]:
        days = [d for d in daily if candle["timestamp"] <= d["timestamp"] < candle["timestamp"] + week]
        assert candle["open"] == days[0]["open"] and candle["close"] == days[-1]["close"]
        assert candle["high"] == max(d["high"] for d in days) and candle["low"] == min(d["low"] for d in days)
        assert candle["volume"] == pytest.approx(sum(d["volume"] for d in days), rel=1e-9)


async def test_usd_quote_goes_to_kraken_without_calling_binance(start, simulator):
    """Binance lists no USD market: asking it would only cost weight."""
    service = await start()
    body = await data_of(await service.get("/api/ohlcv?symbol=BTC/USD&limit=5"))
    assert body["symbol"] == "BTCUSD" and body["source"] == "kraken"
    assert simulator.calls("binance") == 0
    assert (await health_of(service, "binance"))["circuit"] == "closed"


# -- prices: the remaining providers answer ---------------------------------------------------


@pytest.mark.parametrize(("provider", "kind", "params"), matrix(*PRICE_PROVIDERS))
async def test_prices_answer_from_the_remaining_providers(start, simulator, provider, kind, params):
    service = await start()
    simulator.set_fault(provider, kind, **params)
    body = await data_of(await service.get("/api/prices?symbols=BTC,ETH,MATIC"))
    others = [p for p in PRICE_PROVIDERS if p != provider]
    assert body["source"] == "+".join(others)
    assert [q["symbol"] for q in body["data"]] == ["BTC", "ETH", "MATIC"]
    # README: an HTML page, a 200 with an error inside, a wrong shape or an empty answer
    # counts as that provider failing, with the reason in health.
    entry = await health_of(service, provider)
    assert entry["errorMessage"], entry
    assert entry["status"] == "degraded", entry  # one failed call: not yet offline
    quotes = {p: await provider_prices(simulator, p, ("BTC", "ETH", "MATIC")) for p in others}
    for quote in body["data"]:
        assert quote["sources"] == others
        assert quote["price"] == pytest.approx(
            median([quotes[p][quote["symbol"]] for p in others]), rel=1e-12
        )


async def test_binance_empty_ticker_answer_counts_as_a_failure(start, simulator, clock):
    # A tiny TTL (and no stale copy) so that every request asks the providers again.
    service = await start(circuit_breaker_threshold=2, circuit_breaker_timeout=30, cache_ttl_prices=0.05,
                          cache_stale_ttl=0)  # fmt: skip
    simulator.set_fault("binance", "empty", path="/api/v3/ticker/24hr")
    for symbols in ("BTC", "ETH", "SOL"):
        body = await data_of(await service.get(f"/api/prices?symbols={symbols}"))
        assert body["source"] == "coingecko+coincap"
        clock.advance(0.1)
    entry = await health_of(service, "binance")
    assert entry["errorMessage"] and entry["status"] == "offline" and entry["circuit"] == "open", entry
    assert simulator.calls("binance") == 2  # not asked again once its circuit opened


@pytest.mark.parametrize("skewed", PRICE_PROVIDERS)
async def test_a_skewed_source_is_dropped_and_the_price_is_the_median_of_the_others(start, simulator, skewed):
    service = await start()
    simulator.set_fault(skewed, "skew", factor=1.10)
    body = await data_of(await service.get("/api/prices?symbols=BTC,SOL"))
    others = [p for p in PRICE_PROVIDERS if p != skewed]
    quotes = {p: await provider_prices(simulator, p, ("BTC", "SOL")) for p in PRICE_PROVIDERS}
    for quote in body["data"]:
        assert quote["dropped"] == [skewed]
        assert quote["sources"] == others
        truth = median([quotes[p][quote["symbol"]] for p in others])
        assert quote["price"] == pytest.approx(truth, rel=1e-12)
        assert quotes[skewed][quote["symbol"]] == pytest.approx(truth * 1.10, rel=1e-3)  # the skew was real
    assert body["source"] == "+".join(others)


@pytest.mark.parametrize("coincap_key", ["test-coincap-key", ""], ids=["three-sources", "two-sources"])
@pytest.mark.parametrize("factor", [1.0, 1.005, 1.10, 0.5])
async def test_price_is_the_median_of_the_sources_it_names(start, simulator, coincap_key, factor):
    """Whatever is dropped, the served price is the median of the sources the quote names,
    read independently, and every provider that answered is either a source or dropped."""
    service = await start(coincap_api_key=coincap_key)
    simulator.set_fault("binance", "skew", factor=factor)
    body = await data_of(await service.get("/api/prices?symbols=BTC,ETH"))
    answering = [p for p in PRICE_PROVIDERS if coincap_key or p != "coincap"]
    quotes = {p: await provider_prices(simulator, p, ("BTC", "ETH")) for p in answering}
    for quote in body["data"]:
        assert sorted(quote["sources"] + quote["dropped"]) == sorted(answering)
        assert quote["sources"], quote
        expected = median([quotes[p][quote["symbol"]] for p in quote["sources"]])
        assert quote["price"] == pytest.approx(expected, rel=1e-12)
        if abs(factor - 1) <= 0.005:  # within PRICE_MAX_DEVIATION (2%): nobody is dropped
            assert quote["dropped"] == [] and quote["sources"] == answering
        elif coincap_key:  # three sources: the far one is outvoted
            assert quote["dropped"] == ["binance"] and quote["sources"] == ["coingecko", "coincap"]
        else:  # two far apart: no majority, the preferred source (PRICE_PROVIDERS order) is kept
            assert quote["sources"] == ["coingecko"] and quote["dropped"] == ["binance"]
            assert quote["price"] == pytest.approx(quotes["coingecko"][quote["symbol"]], rel=1e-12)


async def test_prices_503_only_when_every_provider_fails(start, simulator):
    service = await start()
    for provider, kind in (
        ("coingecko", "wrong_shape"),
        ("coincap", "deprecated_v2"),
        ("binance", "geo_451"),
    ):
        simulator.set_fault(provider, kind)
    await provider_error(await service.get("/api/prices?symbols=BTC"), set(PRICE_PROVIDERS))


# -- sentiment and market overview never make a value up ---------------------------------------


@pytest.mark.parametrize(("provider", "kind", "params"), matrix("alternative_me"))
async def test_sentiment_fails_rather_than_inventing_a_value(start, simulator, provider, kind, params):
    service = await start()
    simulator.set_fault(provider, kind, **params)
    await provider_error(await service.get("/api/sentiment"), {"alternative_me"})
    entry = await health_of(service, "alternative_me")
    assert entry["errorMessage"] and entry["status"] == "degraded", entry  # one failed call


@pytest.mark.parametrize(("provider", "kind", "params"), matrix("coingecko"))
async def test_market_overview_fails_rather_than_inventing_a_value(start, simulator, provider, kind, params):
    service = await start()
    simulator.set_fault(provider, kind, **params)
    await provider_error(await service.get("/api/market/overview"), {"coingecko"})


# -- a refetched value is never answered with the bytes of the one it replaced ---------------


async def test_a_refetch_on_a_clock_that_has_not_moved_serves_the_new_value(start, simulator, clock):
    """The answer memo keeps encoded bodies by the cache entry's write stamp: a clock that has
    not moved (coarse, or this frozen one) must still give the new entry its own stamp."""
    service = await start()
    first = await data_of(await service.get(OHLCV.format(limit=3)))
    cleared = await service.post("/api/cache/clear", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert cleared.status == 200
    simulator.set_fault("binance", "http_500")
    second = await data_of(await service.get(OHLCV.format(limit=3)))
    assert (first["source"], second["source"]) == ("binance", "kraken")
    assert second["data"] == (await kraken_candles(simulator, "XBTUSD", 60))[-3:]


# -- stale-if-error -----------------------------------------------------------------------------

STALE_CASES = [
    pytest.param(
        "/api/ohlcv?symbol=BTC&limit=5", ("binance", "kraken"), {"cache_ttl_ohlcv": 0.05}, id="ohlcv"
    ),
    pytest.param("/api/prices?symbols=BTC,ETH", PRICE_PROVIDERS, {"cache_ttl_prices": 0.05}, id="prices"),
    pytest.param("/api/sentiment", ("alternative_me",), {"cache_ttl_sentiment": 0.05}, id="sentiment"),
    pytest.param("/api/market/overview", ("coingecko",), {"cache_ttl_market": 0.05}, id="market"),
]


@pytest.mark.parametrize(("path", "providers", "ttl"), STALE_CASES)
async def test_stale_value_served_when_every_provider_fails(start, simulator, clock, path, providers, ttl):
    service = await start(cache_stale_ttl=60, **ttl)
    fresh = await data_of(await service.get(path), stale=False)
    clock.advance(0.1)  # past the TTL
    for provider in providers:
        simulator.set_fault(provider, "http_500")
    before = simulator.call_counts()
    stale = await data_of(await service.get(path), stale=True)
    assert stale["data"] == fresh["data"]
    for key in ("symbol", "interval", "source", "count"):
        assert stale.get(key) == fresh.get(key)
    # Every provider was asked (stale is served only because they all failed)...
    after = simulator.call_counts()
    assert all(after[p] == before[p] + 1 for p in providers), (before, after)
    # ...and once they recover, fresh data again.
    simulator.clear_faults()
    await data_of(await service.get(path), stale=False)


@pytest.mark.parametrize(("path", "providers", "ttl"), STALE_CASES)
async def test_fresh_cache_is_served_without_asking_failing_providers(start, simulator, path, providers, ttl):
    service = await start(**{name: 60 for name in ttl})
    fresh = await data_of(await service.get(path))
    calls = simulator.call_counts()
    for provider in providers:
        simulator.set_fault(provider, "http_500")
    again = await data_of(await service.get(path), stale=False)
    assert again["data"] == fresh["data"]
    assert simulator.call_counts() == calls


@pytest.mark.parametrize(("path", "providers", "ttl"), STALE_CASES)
async def test_nothing_servable_past_the_stale_window_is_503(start, simulator, clock, path, providers, ttl):
    service = await start(cache_stale_ttl=0.05, **ttl)
    await data_of(await service.get(path))
    clock.advance(0.2)  # past TTL + CACHE_STALE_TTL
    for provider in providers:
        simulator.set_fault(provider, "http_500")
    await provider_error(await service.get(path), set(providers))


# -- circuit breakers ---------------------------------------------------------------------------


async def test_circuit_opens_after_threshold_then_closes_when_the_provider_recovers(start, simulator, clock):
    # On the fake clock the circuit can only turn half-open when the test advances it.
    service = await start(circuit_breaker_threshold=2, circuit_breaker_timeout=2.0)
    simulator.set_fault("binance", "http_500")
    assert (await data_of(await service.get(market(0))))["source"] == "kraken"
    entry = await health_of(service, "binance")
    assert entry["circuit"] == "closed" and entry["status"] == "degraded"
    assert (await data_of(await service.get(market(1))))["source"] == "kraken"
    assert simulator.calls("binance") == 2
    entry = await health_of(service, "binance")
    assert entry["circuit"] == "open" and entry["status"] == "offline"
    health = await service.get("/api/health")
    assert health.status == 200 and (await health.json())["status"] == "degraded"

    # Open: Binance is not called at all.
    for i in (2, 3, 4):
        assert (await data_of(await service.get(market(i))))["source"] == "kraken"
    assert simulator.calls("binance") == 2

    simulator.clear_faults()
    clock.advance(2.1)  # past CIRCUIT_BREAKER_TIMEOUT
    assert (await health_of(service, "binance"))["circuit"] == "half_open"  # one probe may go
    assert (await data_of(await service.get(market(5))))["source"] == "binance"
    assert simulator.calls("binance") == 3
    entry = await health_of(service, "binance")
    assert entry["circuit"] == "closed" and entry["status"] == "online"


async def test_health_shows_half_open_after_the_timeout(start, simulator, clock):
    service = await start(circuit_breaker_threshold=1, circuit_breaker_timeout=1.0)
    simulator.set_fault("binance", "http_500")
    await data_of(await service.get(market(0)))
    assert (await health_of(service, "binance"))["circuit"] == "open"
    clock.advance(1.1)
    assert (await health_of(service, "binance"))["circuit"] == "half_open"


async def test_a_failed_probe_reopens_the_circuit(start, simulator, clock):
    service = await start(circuit_breaker_threshold=1, circuit_breaker_timeout=1.0)
    simulator.set_fault("binance", "http_503")
    await data_of(await service.get(market(0)))
    clock.advance(1.1)
    assert (await data_of(await service.get(market(1))))["source"] == "kraken"
    assert simulator.calls("binance") == 2  # one probe
    assert (await health_of(service, "binance"))["circuit"] == "open"
    assert (await data_of(await service.get(market(2))))["source"] == "kraken"
    assert simulator.calls("binance") == 2


async def test_half_open_lets_a_single_probe_through(start, simulator, clock):
    service = await start(
        circuit_breaker_threshold=1, circuit_breaker_timeout=0.3, rate_limit_enabled=False, request_timeout=2
    )
    simulator.set_fault("binance", "http_500", times=1)
    await data_of(await service.get(market(0)))
    clock.advance(0.4)
    simulator.set_fault("binance", "slow", delay=0.3)  # healthy but slow: the probe overlaps the others
    answers = await asyncio.gather(*(service.get(market(6 + i)) for i in range(6)))
    sources = [(await data_of(r))["source"] for r in answers]
    assert simulator.calls("binance") == 2  # the failure, then exactly one probe
    assert sources.count("binance") == 1 and sources.count("kraken") == 5
    assert (await health_of(service, "binance"))["circuit"] == "closed"


async def test_hanging_primary_costs_one_timeout_then_is_not_called_once_open(start, simulator):
    timeout = 0.6
    service = await start(request_timeout=timeout, circuit_breaker_threshold=2, circuit_breaker_timeout=30)
    simulator.set_fault("binance", "timeout")
    for calls in (1, 2):
        body = await data_of(await service.get(market(calls)))
        assert body["source"] == "kraken"
        assert simulator.calls("binance") == calls  # one attempt (one timeout) per request, no retry
    assert (await health_of(service, "binance"))["circuit"] == "open"
    body = await data_of(await service.get(market(3)))
    assert body["source"] == "kraken"
    assert simulator.calls("binance") == 2  # not even tried: no timeout to wait for


async def test_slow_primary_within_the_timeout_is_still_the_primary(start, simulator):
    service = await start(request_timeout=2.0)
    simulator.set_fault("binance", "slow", delay=0.2)
    body = await data_of(await service.get(market(0)))
    assert body["source"] == "binance"
    assert simulator.calls("kraken") == 0


async def test_a_requests_own_fault_does_not_open_the_circuit(start, simulator):
    """PEPE, WIF and BONK are configured as supported but the simulated exchanges do not list
    them: Binance answers 400 -1121 Invalid symbol. That is the request's fault, not Binance's,
    so even with a threshold of one failure its circuit stays closed."""
    service = await start(supported_symbols="BTC,ETH,PEPE,WIF,BONK", circuit_breaker_threshold=1,
                          circuit_breaker_timeout=30)  # fmt: skip
    for symbol in ("PEPE", "WIF", "BONK"):
        response = await service.get(f"/api/ohlcv?symbol={symbol}")
        await error_of(response, 400, "INVALID_SYMBOL")  # no provider lists it: not a 503
    # Binance really was asked, once per market (each then marked unlisted), and refused.
    assert simulator.calls("binance") == 3
    entry = await health_of(service, "binance")
    assert entry["circuit"] == "closed" and entry["status"] == "online", entry
    body = await data_of(await service.get(market(0)))
    assert body["source"] == "binance"


async def test_breaker_of_one_provider_does_not_affect_another_endpoint(start, simulator):
    """Binance's circuit opened by klines failures also protects the price path (one provider,
    one circuit), while coingecko and coincap still answer prices."""
    service = await start(circuit_breaker_threshold=2, circuit_breaker_timeout=30)
    simulator.set_fault("binance", "http_500")
    for i in (0, 1):
        await data_of(await service.get(market(i)))
    calls = simulator.calls("binance")
    body = await data_of(await service.get("/api/prices?symbols=BTC"))
    assert body["source"] == "coingecko+coincap"
    assert simulator.calls("binance") == calls


async def test_unhealthy_when_no_capability_can_be_served(start, simulator):
    service = await start(circuit_breaker_threshold=1, circuit_breaker_timeout=30)
    for provider in simulator.providers:
        simulator.set_fault(provider, "http_500")
    for path in (
        "/api/ohlcv?symbol=BTC",
        "/api/prices?symbols=BTC",
        "/api/sentiment",
        "/api/market/overview",
    ):
        assert (await service.get(path)).status == 503
    response = await service.get("/api/health")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unhealthy"
    assert {p["name"]: p["circuit"] for p in body["providers"]} == {p: "open" for p in simulator.providers}


# -- Retry-After is an order ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rate_limit", "ban_418"])
async def test_binance_retry_after_means_no_call_until_it_passes(start, simulator, clock, kind):
    service = await start()  # default threshold (5): the circuit stays closed
    simulator.set_fault("binance", kind, retry_after=1, times=1)
    assert (await data_of(await service.get(market(0))))["source"] == "kraken"
    assert simulator.calls("binance") == 1
    assert (await health_of(service, "binance"))["circuit"] == "closed"
    # Not for the price path either: one provider, one order.
    assert (await data_of(await service.get("/api/prices?symbols=BTC")))["source"] == "coingecko+coincap"
    assert (await data_of(await service.get(market(1))))["source"] == "kraken"
    assert simulator.calls("binance") == 1
    if kind == "rate_limit":  # (one wait is enough to show the order expires)
        clock.advance(1.2)  # Retry-After has passed
        assert (await data_of(await service.get(market(2))))["source"] == "binance"
        assert simulator.calls("binance") == 2


async def test_coingecko_retry_after_means_no_call_until_it_passes(start, simulator, clock):
    service = await start(cache_ttl_prices=0.05, cache_stale_ttl=0)
    simulator.set_fault("coingecko", "rate_limit", retry_after=1, times=1)
    assert (await data_of(await service.get("/api/prices?symbols=BTC")))["source"] == "coincap+binance"
    clock.advance(0.1)  # past the tiny prices TTL: the next request asks the providers again
    assert (await data_of(await service.get("/api/prices?symbols=ETH")))["source"] == "coincap+binance"
    assert simulator.calls("coincap") == 2
    assert simulator.calls("coingecko") == 1
    await provider_error(await service.get("/api/market/overview"), {"coingecko"})  # also cooling down
    assert simulator.calls("coingecko") == 1


async def test_alternative_me_retry_after_means_no_call_until_it_passes(start, simulator):
    service = await start()
    simulator.set_fault("alternative_me", "rate_limit", retry_after=1, times=1)
    await provider_error(await service.get("/api/sentiment"), {"alternative_me"})
    await provider_error(await service.get("/api/sentiment"), {"alternative_me"})
    assert simulator.calls("alternative_me") == 1
    assert (await health_of(service, "alternative_me"))["circuit"] == "closed"


async def test_kraken_too_many_requests_means_no_call_for_a_while(start, simulator):
    """Kraken says 'EGeneral:Too many requests' with HTTP 200 and no Retry-After."""
    service = await start(ohlcv_providers="kraken,binance")
    simulator.set_fault("kraken", "rate_limit", times=1)
    for i in (0, 1, 2):
        assert (await data_of(await service.get(market(i))))["source"] == "binance"
    assert simulator.calls("kraken") == 1


async def test_configured_fallback_order_is_followed(start, simulator):
    service = await start(ohlcv_providers="kraken,binance")
    body = await data_of(await service.get(OHLCV.format(limit=5)))
    assert body["source"] == "kraken" and simulator.calls("binance") == 0
    assert body["data"] == (await kraken_candles(simulator, "XBTUSD", 60))[-5:]


async def test_frozen_market_sanity(simulator):
    """The frozen simulator clock really is frozen (the comparisons above rely on it)."""
    first = await upstream(simulator, "binance", "/api/v3/time")
    assert first["serverTime"] == int(FIXED_NOW * 1000)


# -- our own upstream budgets (UPSTREAM_BUDGET_*) ----------------------------------------------


async def test_spent_kraken_budget_skips_kraken_without_blaming_it(start, simulator):
    service = await start(upstream_budget_kraken="1/minute")
    simulator.set_fault("binance", "http_500")
    assert (await data_of(await service.get(market(0))))["source"] == "kraken"
    error = await provider_error(await service.get(market(1)), {"binance", "kraken"})
    assert "budget" in error["details"]["kraken"].lower()
    assert simulator.calls("kraken") == 1
    entry = await health_of(service, "kraken")
    assert entry["circuit"] == "closed" and entry["status"] == "online", entry


async def test_binance_budget_counts_request_weight(start, simulator):
    """A klines call weighs 2 (PROVIDERS.md): a budget of 4 is two calls."""
    service = await start(upstream_budget_binance="4/minute")
    sources = [(await data_of(await service.get(market(i))))["source"] for i in (0, 1, 2)]
    assert sources == ["binance", "binance", "kraken"]
    assert simulator.calls("binance") == 2
    assert (await health_of(service, "binance"))["circuit"] == "closed"


async def test_one_base_binance_does_not_list_does_not_cost_binance_for_the_others(start, simulator):
    """PEPE is configured as supported but no simulated exchange lists it. Binance refuses a
    whole symbols=[...] batch (-1121) for one unlisted market; the others must still count."""
    service = await start(supported_symbols="BTC,ETH,PEPE", circuit_breaker_threshold=1)
    body = await data_of(await service.get("/api/prices"))
    assert [q["symbol"] for q in body["data"]] == ["BTC", "ETH"]
    assert body["missing"] == ["PEPE"]
    for quote in body["data"]:
        assert quote["sources"] == ["coingecko", "coincap", "binance"]
    assert body["source"] == "coingecko+coincap+binance"
    assert (await health_of(service, "binance"))["circuit"] == "closed"  # the request's fault
