"""Every error code of ../shared/API.md in its envelope; bad input never reaches a provider."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import (
    SUPPORTED,
    error_of,
    provider_error,
)

# Fixtures shared with the other REST suites (no conftest of our own): the frozen-clock
# simulator (it replaces tests/conftest.py's here) and ``start``.
simulator = support.simulator
start = support.start

QUOTES = ("USDT", "USDC", "USD")
VALID_SYMBOLS = {b for b in SUPPORTED} | {b + q for b in SUPPORTED for q in QUOTES}


def _no_upstream_call(sim) -> None:
    assert sim.call_counts() == {p: 0 for p in sim.providers}, sim.call_counts()


# -- 400s, each without an upstream call ------------------------------------------------------


@pytest.mark.parametrize(
    "symbol",
    ["FOO", "DOGE", "BTCEUR", "BTC/EUR", "BTC/USDT/X", "BTC USDT", "B$C", "💰", "BTC-", "/USDT", "A" * 40],
    ids=lambda s: repr(s),
)
async def test_ohlcv_invalid_symbol(start, simulator, symbol):
    service = await start()
    error = await error_of(await service.get("/api/ohlcv", params={"symbol": symbol}), 400, "INVALID_SYMBOL")
    assert error["retryAfter"] is None
    assert error["details"] == {"field": "symbol"}
    _no_upstream_call(simulator)


@pytest.mark.parametrize(
    "query", ["interval=1h", "symbol=", "symbol=%20%20%20"], ids=["missing", "empty", "blank"]
)
async def test_ohlcv_missing_symbol_is_a_bad_request(start, simulator, query):
    """API.md: an unknown or malformed symbol is INVALID_SYMBOL, a missing parameter
    INVALID_PARAMETER; an empty or blank one is missing too (as on gRPC)."""
    service = await start()
    error = await error_of(await service.get(f"/api/ohlcv?{query}"), 400, "INVALID_PARAMETER")
    assert error["details"]["field"] == "symbol"
    _no_upstream_call(simulator)


@pytest.mark.parametrize("symbols", ["FOO", "BTC,FOO", "BTC,,ETH", ",", "BTC/EUR", "BTC;ETH"])
async def test_prices_invalid_symbol(start, simulator, symbols):
    service = await start()
    error = await error_of(await service.get("/api/prices", params={"symbols": symbols}), 400, "INVALID_SYMBOL")
    assert error["details"] == {"field": "symbols"}  # names the parameter to fix
    _no_upstream_call(simulator)


@pytest.mark.parametrize("interval", ["2h", "1M", "30m", "1s", "abc", "60", "1hh", "h1"])
async def test_ohlcv_invalid_interval(start, simulator, interval):
    service = await start()
    for name in ("interval", "timeframe"):
        error = await error_of(
            await service.get("/api/ohlcv", params={"symbol": "BTC", name: interval}), 400, "INVALID_INTERVAL"
        )
        assert error["details"] == {"field": "interval"}, error  # the canonical name, alias or not
    _no_upstream_call(simulator)


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "1.5", "1e3", "100000000000000000000", "0x10"])
async def test_ohlcv_invalid_limit(start, simulator, limit):
    service = await start()
    error = await error_of(
        await service.get("/api/ohlcv", params={"symbol": "BTC", "limit": limit}), 400, "INVALID_PARAMETER"
    )
    assert error["retryAfter"] is None
    assert error["details"] == {"field": "limit"}
    _no_upstream_call(simulator)


_NOT_A_SYMBOL = st.one_of(
    st.from_regex(r"\A[A-Za-z]{1,10}\Z").filter(lambda s: s.upper() not in VALID_SYMBOLS),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=20).filter(
        lambda s: (
            s.strip().upper() not in VALID_SYMBOLS
            and not any(
                s.strip().upper() in (f"{b}{sep}{q}") for b in SUPPORTED for q in QUOTES for sep in "/-_:"
            )
        )
    ),
)
_NOT_A_LIMIT = st.one_of(
    st.integers().filter(lambda n: not 1 <= n <= 1000).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(alphabet="abcxyz.-eE$% ", min_size=1, max_size=10).filter(lambda s: s.strip() != ""),
)


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_no_invalid_request_reaches_a_provider(make_service, simulator, data):
    """Property: whatever bad input a client sends, the simulator sees no call at all."""
    service = await make_service(rate_limit_enabled=False)
    case = data.draw(st.sampled_from(["symbol", "interval", "limit", "prices"]))
    if case == "symbol":
        params = {"symbol": data.draw(_NOT_A_SYMBOL)}
        expected = {"INVALID_SYMBOL"}
    elif case == "interval":
        interval = data.draw(st.text(min_size=1, max_size=5).filter(
            lambda s: s.strip().lower() not in ("1m", "5m", "15m", "1h", "4h", "1d", "1w")
            and s.strip() not in ("1m", "5m", "15m", "1h", "4h", "1d", "1w", "1H", "1D", "1W")
        ))  # fmt: skip
        params = {"symbol": "BTC", "interval": interval}
        expected = {"INVALID_INTERVAL"}
    elif case == "limit":
        params = {"symbol": "BTC", "limit": data.draw(_NOT_A_LIMIT)}
        expected = {"INVALID_PARAMETER"}
    else:
        good = data.draw(st.lists(st.sampled_from(SUPPORTED), max_size=3))
        bad = data.draw(_NOT_A_SYMBOL)
        params = {"symbols": ",".join([*good, bad])}
        expected = {"INVALID_SYMBOL"}
    path = "/api/prices" if case == "prices" else "/api/ohlcv"
    response = await service.get(path, params=params)
    body = await response.json()
    assert response.status == 400, (params, body)
    assert body["error"]["code"] in expected, (params, body)
    _no_upstream_call(simulator)
    await service.close()


# -- routing ----------------------------------------------------------------------------------


# "/" was here until issue 13: it now answers 200 with pointers (test_rest_edge_answers.py).
@pytest.mark.parametrize("path", ["/api/unknown", "/api/ohlcv/BTC", "/api", "/api/prices/"])
async def test_unknown_route_is_not_found(start, simulator, path):
    service = await start()
    error = await error_of(await service.get(path), 404, "NOT_FOUND")
    assert error["retryAfter"] is None
    _no_upstream_call(simulator)


WRONG_METHODS = [
    ("POST", "/api/ohlcv?symbol=BTC"),
    ("DELETE", "/api/prices"),
    ("PUT", "/api/health"),
    ("GET", "/api/cache/clear"),
    ("POST", "/api/cache/stats"),
]


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
async def test_wrong_method(start, simulator, method, path):
    service = await start()
    response = await service.request(method, path)
    await error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert "Allow" in response.headers
    _no_upstream_call(simulator)


# -- 503 PROVIDER_ERROR -----------------------------------------------------------------------


async def test_ohlcv_every_provider_failing_is_provider_error(start, simulator):
    service = await start()
    simulator.set_fault("binance", "http_500")
    simulator.set_fault("kraken", "http_503")
    await provider_error(await service.get("/api/ohlcv?symbol=BTC"), {"binance", "kraken"})


async def test_prices_every_provider_failing_is_provider_error(start, simulator):
    service = await start()
    simulator.set_fault("coingecko", "http_500")
    simulator.set_fault("coincap", "html")
    simulator.set_fault("binance", "malformed_json")
    await provider_error(
        await service.get("/api/prices?symbols=BTC,ETH"), {"coingecko", "coincap", "binance"}
    )


async def test_sentiment_failing_is_provider_error(start, simulator):
    service = await start()
    simulator.set_fault("alternative_me", "http_500")
    await provider_error(await service.get("/api/sentiment"), {"alternative_me"})


async def test_market_overview_failing_is_provider_error(start, simulator):
    service = await start()
    simulator.set_fault("coingecko", "http_503", path="/global")
    await provider_error(await service.get("/api/market/overview"), {"coingecko"})


async def test_sentiment_disabled_is_refused_without_a_call(start, simulator):
    """README: with ENABLE_SENTIMENT=false, /api/sentiment answers 404, never a made-up value."""
    service = await start(enable_sentiment=False)
    error = await error_of(await service.get("/api/sentiment"), 404, "NOT_FOUND")
    assert "ENABLE_SENTIMENT=false" in error["message"]  # tells the operator what switched it off
    _no_upstream_call(simulator)


@pytest.mark.parametrize("limit", ["1_0", "\u0661\u0660"], ids=["underscore", "arabic-indic"])
async def test_limit_must_be_ascii_digits(start, simulator, limit):
    """'1_0' and Arabic-Indic digits are not numbers a client means (Python's int() takes both)."""
    service = await start()
    await error_of(
        await service.get("/api/ohlcv", params={"symbol": "BTC", "limit": limit}), 400, "INVALID_PARAMETER"
    )
    _no_upstream_call(simulator)
