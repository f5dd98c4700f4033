"""Single-flight: many identical cold requests cost one upstream call."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import (
    binance_candles,
)

# Fixtures shared with the other REST suites (no conftest of our own): the frozen-clock
# simulator (it replaces tests/conftest.py's here) and ``start``.
simulator = support.simulator
start = support.start

CONCURRENCY = 300


async def _burst(service, path: str, n: int) -> list[tuple[int, dict]]:
    """``n`` truly simultaneous requests: one unpooled connection each (no client-side queue)."""
    url = str(service.make_url(path))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> tuple[int, dict]:
            async with session.get(url) as response:
                return response.status, await response.json()

        return await asyncio.gather(*(one() for _ in range(n)))


async def test_300_identical_cold_ohlcv_requests_make_one_upstream_call(start, simulator):
    service = await start(rate_limit_enabled=False, request_timeout=5)
    simulator.set_fault("binance", "slow", delay=0.5)  # every request arrives while the fetch is in flight
    answers = await _burst(service, "/api/ohlcv?symbol=BTC&interval=1h&limit=50", CONCURRENCY)
    assert [status for status, _ in answers] == [200] * CONCURRENCY
    assert simulator.calls("binance", "/api/v3/klines") == 1
    assert simulator.calls("kraken") == 0
    bodies = [body for _, body in answers]
    assert all(b["data"] == bodies[0]["data"] and b["source"] == "binance" for b in bodies)
    simulator.clear_faults()
    assert bodies[0]["data"] == await binance_candles(simulator, "BTCUSDT", "1h", 50)


async def test_every_symbol_form_shares_one_fetch(start, simulator):
    service = await start(rate_limit_enabled=False, request_timeout=5)
    simulator.set_fault("binance", "slow", delay=0.3)
    forms = ["BTC", "BTCUSDT", "BTC/USDT", "btc-usdt"] * 25
    answers = await asyncio.gather(
        *(service.get("/api/ohlcv", params={"symbol": f, "limit": "20"}) for f in forms)
    )
    assert {r.status for r in answers} == {200}
    assert simulator.calls("binance", "/api/v3/klines") == 1


async def test_concurrent_cold_price_requests_ask_each_provider_once(start, simulator):
    service = await start(rate_limit_enabled=False, request_timeout=5)
    for provider in ("coingecko", "coincap", "binance"):
        simulator.set_fault(provider, "slow", delay=0.3)
    # The same set of symbols in different orders is one question.
    paths = ["/api/prices?symbols=BTC,ETH", "/api/prices?symbols=ETH,BTC"] * 50
    url = {p: str(service.make_url(p)) for p in set(paths)}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(path: str) -> tuple[str, dict]:
            async with session.get(url[path]) as response:
                assert response.status == 200
                return path, await response.json()

        answers = await asyncio.gather(*(one(p) for p in paths))
    assert simulator.call_counts() == {
        "binance": 1,
        "kraken": 0,
        "coingecko": 1,
        "coincap": 1,
        "alternative_me": 0,
    }
    for path, body in answers:
        asked = path.split("=", 1)[1].split(",")
        assert [q["symbol"] for q in body["data"]] == asked


async def test_concurrent_failures_are_shared_too(start, simulator):
    """A failing fetch is also made once for everyone waiting (and not cached)."""
    service = await start(rate_limit_enabled=False, request_timeout=5)
    simulator.set_fault("alternative_me", "slow", delay=0.3)
    simulator.set_fault("alternative_me", "http_500")
    answers = await _burst(service, "/api/sentiment", 50)
    assert {status for status, _ in answers} == {503}
    assert simulator.calls("alternative_me") == 1
    simulator.clear_faults()
    status, _ = (await _burst(service, "/api/sentiment", 1))[0]
    assert status == 200  # the failure was not cached
    assert simulator.calls("alternative_me") == 2
