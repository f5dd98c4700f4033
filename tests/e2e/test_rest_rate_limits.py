"""Per-client rate limits (RATE_LIMIT_*, TRUST_PROXY) on the REST API."""

from __future__ import annotations

import pytest

from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import (
    data_of,
    error_of,
)

# Fixtures shared with the other REST suites (no conftest of our own): the frozen-clock
# simulator (it replaces tests/conftest.py's here) and ``start``.
simulator = support.simulator
start = support.start

LIMITED = [
    pytest.param("/api/ohlcv?symbol=BTC&limit=2", "rate_limit_ohlcv", id="ohlcv"),
    pytest.param("/api/prices?symbols=BTC", "rate_limit_prices", id="prices"),
    pytest.param("/api/sentiment", "rate_limit_sentiment", id="sentiment"),
    pytest.param("/api/market/overview", "rate_limit_market", id="market"),
]


@pytest.mark.parametrize(("path", "setting"), LIMITED)
async def test_limited_route_counts_down_then_answers_429(start, simulator, path, setting):
    service = await start(**{setting: 3})
    for remaining in (2, 1, 0):
        response = await service.get(path)
        await data_of(response)
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    calls = simulator.call_counts()
    response = await service.get(path)
    error = await error_of(response, 429, "RATE_LIMITED")
    retry = error["retryAfter"]
    assert isinstance(retry, int) and 1 <= retry <= 60  # a per-minute window
    assert response.headers["Retry-After"] == str(retry)
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert "X-Request-ID" in response.headers
    assert simulator.call_counts() == calls  # a refused request costs no upstream call


@pytest.mark.parametrize(("path", "setting"), LIMITED)
async def test_default_limits_are_advertised(start, path, setting):
    service = await start()
    response = await service.get(path)
    await data_of(response)
    default = {
        "rate_limit_ohlcv": 60,
        "rate_limit_prices": 120,
        "rate_limit_sentiment": 30,
        "rate_limit_market": 30,
    }
    assert response.headers["X-RateLimit-Limit"] == str(default[setting])
    assert response.headers["X-RateLimit-Remaining"] == str(default[setting] - 1)


async def test_rate_limit_headers_on_error_answers_of_limited_routes(start):
    service = await start(rate_limit_ohlcv=5)
    response = await service.get("/api/ohlcv?symbol=NOPE")
    await error_of(response, 400, "INVALID_SYMBOL")
    assert response.headers["X-RateLimit-Limit"] == "5"


async def test_groups_have_separate_budgets(start):
    service = await start(
        rate_limit_ohlcv=1, rate_limit_prices=1, rate_limit_sentiment=1, rate_limit_market=1
    )
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=2"))
    await error_of(await service.get("/api/ohlcv?symbol=BTC&limit=2"), 429, "RATE_LIMITED")
    await data_of(await service.get("/api/prices?symbols=BTC"))
    await data_of(await service.get("/api/sentiment"))
    await data_of(await service.get("/api/market/overview"))


async def test_health_and_cache_stats_are_not_limited(start):
    service = await start(
        rate_limit_ohlcv=1, rate_limit_prices=1, rate_limit_sentiment=1, rate_limit_market=1
    )
    for _ in range(15):
        for path in ("/api/health", "/api/cache/stats"):
            response = await service.get(path)
            assert response.status == 200
            assert "X-RateLimit-Limit" not in response.headers
            assert "X-RateLimit-Remaining" not in response.headers


async def test_rate_limiting_can_be_switched_off(start):
    service = await start(rate_limit_enabled=False, rate_limit_ohlcv=1)
    for _ in range(5):
        response = await service.get("/api/ohlcv?symbol=BTC&limit=2")
        await data_of(response)
        assert "X-RateLimit-Limit" not in response.headers


async def test_with_trust_proxy_forwarded_clients_have_separate_budgets(start):
    service = await start(trust_proxy=True, rate_limit_ohlcv=2)
    alice, bob = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.9"}
    for remaining in ("1", "0"):
        response = await service.get("/api/ohlcv?symbol=BTC&limit=2", headers=alice)
        assert response.headers["X-RateLimit-Remaining"] == remaining
    await error_of(await service.get("/api/ohlcv?symbol=BTC&limit=2", headers=alice), 429, "RATE_LIMITED")
    response = await service.get("/api/ohlcv?symbol=BTC&limit=2", headers=bob)
    await data_of(response)
    assert response.headers["X-RateLimit-Remaining"] == "1"
    # The proxy's own peer (no header) is yet another client.
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=2"))


async def test_without_trust_proxy_forwarded_for_is_ignored(start):
    service = await start(rate_limit_ohlcv=2)
    for i, remaining in enumerate(("1", "0")):
        response = await service.get(
            "/api/ohlcv?symbol=BTC&limit=2", headers={"X-Forwarded-For": f"203.0.113.{i}"}
        )
        assert response.headers["X-RateLimit-Remaining"] == remaining
    await error_of(
        await service.get("/api/ohlcv?symbol=BTC&limit=2", headers={"X-Forwarded-For": "198.51.100.99"}),
        429,
        "RATE_LIMITED",
    )


async def test_preflight_is_not_counted(start):
    service = await start(rate_limit_ohlcv=1)
    for _ in range(3):
        response = await service.options(
            "/api/ohlcv",
            headers={"Origin": "https://dreammaker.example", "Access-Control-Request-Method": "GET"},
        )
        assert 200 <= response.status < 300
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=2"))
