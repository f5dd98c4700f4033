"""Every REST endpoint's shape, per ../shared/API.md, checked against the simulator's own data."""

from __future__ import annotations

import importlib.metadata
import json
import time
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import (
    FIXED_NOW,
    PRICE_PROVIDERS,
    PROVIDERS,
    SUPPORTED,
    binance_candles,
    current_open_ms,
    data_of,
    error_of,
    is_epoch_ms,
    is_number,
    median,
    parse_iso_z,
    provider_prices,
    upstream,
)

# Fixtures shared with the other REST suites (no conftest of our own): the frozen-clock
# simulator (it replaces tests/conftest.py's here) and ``start``.
simulator = support.simulator
start = support.start

CANDLE_KEYS = {"timestamp", "open", "high", "low", "close", "volume"}
QUOTE_KEYS = {"symbol", "name", "price", "priceUsd", "change24h", "volume24h", "marketCap", "lastUpdate"}


# -- /api/ohlcv ------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["BTC", "BTCUSDT", "BTC/USDT", "btc-usdt"])
async def test_ohlcv_symbol_forms_all_mean_btcusdt(start, simulator, symbol):
    service = await start()
    body = await data_of(await service.get("/api/ohlcv", params={"symbol": symbol, "interval": "1h"}))
    assert body["symbol"] == "BTCUSDT"
    assert body["interval"] == "1h"
    assert body["source"] == "binance"
    assert body["count"] == 100 == len(body["data"])  # default limit
    (request,) = [r for r in simulator.requests if r.path == "/api/v3/klines"]
    assert request.query["symbol"] == "BTCUSDT"
    assert request.query["interval"] == "1h"


async def test_ohlcv_envelope_and_candles_equal_binance_klines(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/ohlcv?symbol=ETH&interval=1h&limit=24"))
    assert set(body) >= {"success", "data", "symbol", "interval", "count", "source", "timestamp", "stale"}
    assert body["symbol"] == "ETHUSDT"
    assert body["count"] == 24
    for candle in body["data"]:
        assert set(candle) == CANDLE_KEYS
        assert isinstance(candle["timestamp"], int) and not isinstance(candle["timestamp"], bool)
        assert all(is_number(candle[k]) for k in ("open", "high", "low", "close", "volume")), candle
    assert body["data"] == await binance_candles(simulator, "ETHUSDT", "1h", 24)


@pytest.mark.parametrize("interval", ["1m", "5m", "15m", "1h", "4h", "1d", "1w"])
async def test_ohlcv_every_supported_interval_oldest_first_newest_in_progress(start, simulator, interval):
    service = await start()
    body = await data_of(
        await service.get("/api/ohlcv", params={"symbol": "SOL", "interval": interval, "limit": "5"})
    )
    assert body["interval"] == interval and body["count"] == 5
    stamps = [c["timestamp"] for c in body["data"]]
    step = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800}[
        interval
    ] * 1000
    assert stamps == [current_open_ms(interval) - step * back for back in range(4, -1, -1)]
    assert body["data"] == await binance_candles(simulator, "SOLUSDT", interval, 5)


async def test_ohlcv_timeframe_is_an_alias_of_interval(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/ohlcv?symbol=BTC&timeframe=4h&limit=3"))
    assert body["interval"] == "4h"
    assert body["data"][-1]["timestamp"] == current_open_ms("4h")
    (request,) = [r for r in simulator.requests if r.path == "/api/v3/klines"]
    assert request.query["interval"] == "4h"


@pytest.mark.parametrize("limit", [1, 1000])
async def test_ohlcv_limit_bounds(start, simulator, limit):
    service = await start()
    body = await data_of(await service.get(f"/api/ohlcv?symbol=BTC&interval=1h&limit={limit}"))
    assert body["count"] == limit == len(body["data"])
    assert body["data"][-1]["timestamp"] == current_open_ms("1h")
    assert body["data"] == await binance_candles(simulator, "BTCUSDT", "1h", limit)


async def test_ohlcv_numbers_are_json_numbers_in_the_raw_body(start):
    service = await start()
    response = await service.get("/api/ohlcv?symbol=BTC&limit=2")
    raw = json.loads(await response.text())
    for candle in raw["data"]:
        for key in ("open", "high", "low", "close", "volume"):
            assert type(candle[key]) in (int, float), candle
    assert type(raw["count"]) is int and type(raw["timestamp"]) is int


async def test_ohlcv_matic_is_served_from_binance_polusdt(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/ohlcv?symbol=MATIC&limit=3"))
    assert body["symbol"] == "MATICUSDT" and body["source"] == "binance"
    assert body["data"] == await binance_candles(simulator, "POLUSDT", "1h", 3)


# -- /api/prices ------------------------------------------------------------------------------


def _check_quote(quote: dict[str, Any]) -> None:
    assert set(quote) >= QUOTE_KEYS, quote
    assert is_number(quote["price"]) and quote["price"] > 0
    assert quote["priceUsd"] == quote["price"]
    for key in ("change24h", "volume24h", "marketCap"):
        assert quote[key] is None or is_number(quote[key]), quote
    assert isinstance(quote["name"], str) and quote["name"]
    assert abs(parse_iso_z(quote["lastUpdate"]) - FIXED_NOW) < 2  # the providers' update time


async def test_prices_without_symbols_lists_every_supported_symbol(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/prices"))
    assert [q["symbol"] for q in body["data"]] == list(SUPPORTED)
    assert body["source"] == "coingecko+coincap+binance"
    for quote in body["data"]:
        _check_quote(quote)
    quotes = {name: await provider_prices(simulator, name, SUPPORTED) for name in PRICE_PROVIDERS}
    for quote in body["data"]:
        expected = median([quotes[p][quote["symbol"]] for p in PRICE_PROVIDERS])
        assert quote["price"] == pytest.approx(expected, rel=1e-12), quote["symbol"]


async def test_prices_for_listed_symbols_in_the_order_asked(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/prices?symbols=SOL,BTC,ETH"))
    assert [q["symbol"] for q in body["data"]] == ["SOL", "BTC", "ETH"]
    assert body["source"] == "coingecko+coincap+binance"
    names = {q["symbol"]: q["name"] for q in body["data"]}
    assert names == {"SOL": "Solana", "BTC": "Bitcoin", "ETH": "Ethereum"}
    for quote in body["data"]:
        _check_quote(quote)
    # One batched call per provider, never Binance's all-symbols ticker.
    assert simulator.calls("coingecko") == simulator.calls("coincap") == simulator.calls("binance") == 1
    (ticker,) = [r for r in simulator.requests if r.provider == "binance"]
    assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(json.loads(ticker.query["symbols"]))


async def test_prices_without_coincap_key_coincap_is_disabled_and_not_called(start, simulator):
    service = await start(coincap_api_key="")
    body = await data_of(await service.get("/api/prices?symbols=BTC"))
    assert body["source"] == "coingecko+binance"
    assert simulator.calls("coincap") == 0
    health = await (await service.get("/api/health")).json()
    (coincap,) = [p for p in health["providers"] if p["name"] == "coincap"]
    assert coincap["status"] == "disabled"


# -- /api/sentiment ---------------------------------------------------------------------------


async def test_sentiment_is_todays_fear_and_greed(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/sentiment"))
    data = body["data"]
    today = (await upstream(simulator, "alternative_me", "/fng/", {"limit": "7"}))["data"][0]
    reading = data["fearGreed"]
    assert reading["value"] == int(today["value"]) and type(reading["value"]) is int
    assert reading["classification"] == today["value_classification"]
    assert parse_iso_z(reading["timestamp"]) == int(today["timestamp"])
    overall = data["overall"]
    assert set(overall) >= {"sentiment", "score", "confidence"}
    assert overall["score"] == reading["value"]
    band = {"Extreme Fear": "bearish", "Fear": "bearish", "Neutral": "neutral",
            "Greed": "bullish", "Extreme Greed": "bullish"}[today["value_classification"]]  # fmt: skip
    assert overall["sentiment"] == band
    # confidence: the share of the last 7 readings in today's band, read from the upstream's
    # own classifications (rounded to 2 places).
    week = (await upstream(simulator, "alternative_me", "/fng/", {"limit": "7"}))["data"]
    agreeing = sum(1 for r in week if {"Extreme Fear": "bearish", "Fear": "bearish", "Neutral": "neutral",
                   "Greed": "bullish", "Extreme Greed": "bullish"}[r["value_classification"]] == band)  # fmt: skip
    assert len(week) == 7
    assert overall["confidence"] == round(agreeing / 7, 2)


# -- /api/market/overview ---------------------------------------------------------------------


async def test_market_overview_is_coingecko_global(start, simulator):
    service = await start()
    body = await data_of(await service.get("/api/market/overview"))
    data = body["data"]
    assert set(data) >= {"totalMarketCap", "totalVolume24h", "btcDominance", "ethDominance", "activeCoins"}
    world = (await upstream(simulator, "coingecko", "/global"))["data"]
    assert data["totalMarketCap"] == pytest.approx(world["total_market_cap"]["usd"], rel=1e-12)
    assert data["totalVolume24h"] == pytest.approx(world["total_volume"]["usd"], rel=1e-12)
    assert data["btcDominance"] == pytest.approx(world["market_cap_percentage"]["btc"], rel=1e-12)
    assert data["ethDominance"] == pytest.approx(world["market_cap_percentage"]["eth"], rel=1e-12)
    assert data["activeCoins"] == world["active_cryptocurrencies"]
    assert parse_iso_z(data["lastUpdate"]) == world["updated_at"]
    assert all(
        is_number(data[k]) for k in ("totalMarketCap", "totalVolume24h", "btcDominance", "ethDominance")
    )


# -- /api/health and /api/cache/* -------------------------------------------------------------


async def test_health_lists_each_provider_once_and_the_cache(start):
    service = await start()
    response = await service.get("/api/health")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "healthy"  # nothing has failed yet
    assert is_number(body["uptime"]) and body["uptime"] >= 0
    assert body["version"] == importlib.metadata.version("crypto-data-engine")
    names = [p["name"] for p in body["providers"]]
    assert sorted(names) == sorted(PROVIDERS) and len(names) == len(set(names))
    for entry in body["providers"]:
        assert set(entry) >= {"name", "status", "circuit", "latency", "lastCheck", "errorMessage"}
        # Never called: "unknown" (issue 13; it said "online"), and still healthy (CoinCap has a key here).
        assert entry["status"] == "unknown"
        assert entry["circuit"] == "closed"
        assert (entry["latency"], entry["lastCheck"], entry["errorMessage"]) == (None, None, None)
    assert set(body["cache"]) >= {"backend", "size", "hits", "misses", "hitRate"}
    assert body["cache"]["backend"] == "memory"


async def test_health_reports_real_traffic(start):
    service = await start()
    before = time.time()
    sent = time.perf_counter()
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=2"))
    round_trip_ms = (time.perf_counter() - sent) * 1000
    after = time.time()
    body = await (await service.get("/api/health")).json()
    (binance,) = [p for p in body["providers"] if p["name"] == "binance"]
    assert binance["status"] == "online" and binance["errorMessage"] is None
    # The upstream call happened inside our request: its latency and check time lie within it.
    assert is_number(binance["latency"]) and 0 < binance["latency"] <= round_trip_ms
    assert before - 0.001 <= parse_iso_z(binance["lastCheck"]) <= after + 0.001
    assert body["cache"]["size"] == 1


async def test_cache_stats_count_hits_and_misses(start, simulator):
    service = await start()
    first = await (await service.get("/api/cache/stats")).json()
    assert set(first) >= {"size", "hits", "misses", "hitRate"}
    assert first["size"] == 0 and first["hits"] == 0
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=3"))
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=3"))
    assert simulator.calls("binance") == 1  # the second was answered from the cache
    stats = await (await service.get("/api/cache/stats")).json()
    assert stats["size"] == 1
    assert stats["hits"] == 1 and stats["misses"] == 1
    assert stats["hitRate"] == pytest.approx(stats["hits"] / (stats["hits"] + stats["misses"]), abs=1e-3)


async def test_cache_holds_at_most_cache_max_entries(start, simulator):
    service = await start(cache_max_entries=2)
    for symbol in ("BTC", "ETH", "SOL"):
        await data_of(await service.get(f"/api/ohlcv?symbol={symbol}&limit=3"))
    assert (await (await service.get("/api/cache/stats")).json())["size"] == 2
    await data_of(await service.get("/api/ohlcv?symbol=SOL&limit=3"))  # recent: still cached
    assert simulator.calls("binance") == 3
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=3"))  # least recent: evicted
    assert simulator.calls("binance") == 4


async def test_cache_clear_without_a_configured_token_is_forbidden(start):
    service = await start(admin_token="")
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        await error_of(await service.post("/api/cache/clear", headers=headers), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "UNAUTHORIZED"),
        ({"Authorization": ADMIN_TOKEN}, 401, "UNAUTHORIZED"),  # no scheme
        ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401, "UNAUTHORIZED"),
        ({"Authorization": "Bearer wrong-token"}, 403, "FORBIDDEN"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, 403, "FORBIDDEN"),
    ],
    ids=["missing", "no-scheme", "basic", "wrong", "prefix-of-nothing"],
)
async def test_cache_clear_without_the_right_token(start, simulator, headers, status, code):
    service = await start()
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=3"))
    await error_of(await service.post("/api/cache/clear", headers=headers), status, code)
    stats = await (await service.get("/api/cache/stats")).json()
    assert stats["size"] == 1  # nothing was cleared


async def test_cache_clear_with_the_right_token_empties_the_cache(start, simulator):
    service = await start()
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=3"))
    await data_of(await service.get("/api/prices?symbols=BTC"))
    calls = simulator.calls("binance")
    response = await service.post("/api/cache/clear", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status == 200
    body = await response.json()
    assert body["success"] is True and isinstance(body["message"], str)
    stats = await (await service.get("/api/cache/stats")).json()
    assert stats["size"] == 0
    await data_of(await service.get("/api/ohlcv?symbol=BTC&limit=3"))
    assert simulator.calls("binance") == calls + 1  # fetched again: it really was gone


# -- cross-cutting: request ids and CORS ------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/health", "/api/ohlcv?symbol=BTC&limit=1", "/api/ohlcv?symbol=NOPE", "/api/nope"]
)
async def test_request_id_is_echoed(start, path):
    service = await start()
    response = await service.get(path, headers={"X-Request-ID": "req-42.a:b_c"})
    assert response.headers["X-Request-ID"] == "req-42.a:b_c"


async def test_request_id_is_generated_when_absent_or_unusable(start):
    service = await start()
    seen = set()
    for headers in ({}, {}, {"X-Request-ID": "has spaces and\ttabs"}, {"X-Request-ID": "x" * 500}):
        response = await service.get("/api/health", headers=headers)
        request_id = response.headers.get("X-Request-ID", "")
        assert request_id and request_id not in seen and request_id != headers.get("X-Request-ID")
        seen.add(request_id)


async def test_cors_headers_for_an_origin(start):
    service = await start()
    response = await service.get(
        "/api/ohlcv?symbol=BTC&limit=1", headers={"Origin": "https://dreammaker.example"}
    )
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # CORS_ORIGINS defaults to *
    exposed = {
        h.strip().lower() for h in response.headers.get("Access-Control-Expose-Headers", "").split(",")
    }
    assert {"x-request-id", "retry-after"} <= exposed
    # Errors carry them too.
    error = await service.get("/api/ohlcv?symbol=NOPE", headers={"Origin": "https://dreammaker.example"})
    assert error.status == 400 and "Access-Control-Allow-Origin" in error.headers


@pytest.mark.parametrize("path", ["/api/ohlcv", "/api/prices"])
async def test_cors_preflight(start, simulator, path):
    service = await start()
    response = await service.options(
        path,
        headers={
            "Origin": "https://dreammaker.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Request-ID, Authorization, X-Anything",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # CORS_ORIGINS defaults to *
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD"}
    # The headers the API reads, whatever the preflight asked for (issue 13: it was echoed).
    assert response.headers["Access-Control-Allow-Headers"] == "X-Request-ID"
    assert sum(simulator.call_counts().values()) == 0


async def test_cors_preflight_to_the_admin_route_is_refused(start, simulator):
    """Issue 13: admin routes are not CORS-enabled (this case used to be a 204 above)."""
    service = await start()
    response = await service.options(
        "/api/cache/clear",
        headers={
            "Origin": "https://dreammaker.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    error = await error_of(response, 403, "FORBIDDEN")
    assert error["message"] == "admin routes are not open to cross-origin requests"
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    answer = await service.post(
        "/api/cache/clear",
        headers={"Origin": "https://dreammaker.example", "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status == 200  # same-origin tools and curl still work; browsers cannot read it
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


async def test_cors_restricted_origins(start):
    service = await start(cors_origins="https://good.example")
    allowed = await service.get("/api/health", headers={"Origin": "https://good.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://good.example"
    other = await service.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = await service.options(
        "/api/prices", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


async def test_response_timestamps_are_epoch_ms(start):
    service = await start()
    for path in (
        "/api/ohlcv?symbol=BTC&limit=1",
        "/api/prices?symbols=BTC",
        "/api/sentiment",
        "/api/market/overview",
    ):
        body = await data_of(await service.get(path))
        assert is_epoch_ms(body["timestamp"])
