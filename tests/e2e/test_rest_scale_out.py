"""Several replicas on one Redis share cache, circuits, limits and cold fills; Redis outages
cost no request."""

from __future__ import annotations

import asyncio
from typing import Any

from simulator import UpstreamSimulator
from tests.fakes import FakeClock

KLINES = "/api/v3/klines"


async def replicas(make_service: Any, redis_server: Any, count: int = 2, **overrides: Any) -> list[Any]:
    # Both replicas share the test's one event loop: a loaded loop can hold a Redis reply past
    # the 0.5 s default and (rightly) switch a replica to local state. These tests are about
    # sharing, so they allow Redis more time; the outage test kills Redis, which fails at once.
    settings = {"cache_backend": "redis", "redis_url": redis_server.url, "rate_limit_enabled": False,
                "redis_timeout": 2.0}  # fmt: skip
    settings.update(overrides)
    return [await make_service(**settings) for _ in range(count)]


async def test_a_fill_by_one_replica_is_a_hit_for_the_other(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    first, second = await replicas(make_service, redis_server)
    one = await (await first.get("/api/ohlcv?symbol=BTC&interval=1h&limit=5")).json()
    two = await (await second.get("/api/ohlcv?symbol=BTC&interval=1h&limit=5")).json()
    assert one["data"] == two["data"]
    assert simulator.calls("binance", KLINES) == 1
    stats = await (await second.get("/api/cache/stats")).json()
    assert stats["backend"] == "redis" and stats["hits"] == 1


async def test_a_cold_burst_across_replicas_makes_one_upstream_call(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    first, second = await replicas(make_service, redis_server)
    simulator.set_fault("binance", "slow", delay=0.3)
    responses = await asyncio.gather(
        *(client.get("/api/ohlcv?symbol=ETH&interval=15m&limit=50") for client in [first, second] * 30)
    )
    assert {response.status for response in responses} == {200}
    assert simulator.calls("binance", KLINES) == 1


async def test_a_circuit_opened_by_one_replica_is_open_for_the_other(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    first, second = await replicas(make_service, redis_server, circuit_breaker_threshold=2)
    simulator.set_fault("binance", "http_500")
    # Requests that differ only in limit share one cache entry: vary the interval instead.
    for interval in ("1h", "4h"):
        body = await (await first.get(f"/api/ohlcv?symbol=SOL&interval={interval}&limit=3")).json()
        assert body["source"] == "kraken"
    assert simulator.calls("binance", KLINES) == 2
    simulator.reset_calls()
    body = await (await second.get("/api/ohlcv?symbol=SOL&interval=15m&limit=3")).json()
    assert body["source"] == "kraken"
    assert simulator.calls("binance") == 0
    health = await (await second.get("/api/health")).json()
    assert {p["name"]: p["circuit"] for p in health["providers"]}["binance"] == "open"


async def test_a_clients_rate_limit_holds_across_replicas(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    first, second = await replicas(make_service, redis_server, rate_limit_enabled=True, rate_limit_market=3)
    statuses = []
    for client in (first, second, first, second):
        response = await client.get("/api/market/overview")
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 429]
    assert response.headers["X-RateLimit-Remaining"] == "0"


async def test_redis_killed_mid_run_costs_no_request_and_sharing_resumes(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    clock = FakeClock()  # one wall clock for both replicas
    first, second = await replicas(make_service, redis_server, clock=clock)
    assert (await first.get("/api/prices?symbols=BTC")).status == 200
    redis_server.stop()
    for path in ("/api/prices?symbols=ETH", "/api/ohlcv?symbol=BTC&limit=3", "/api/market/overview"):
        response = await first.get(path)
        assert response.status == 200, await response.text()
    health = await (await first.get("/api/health")).json()
    assert health["status"] == "degraded"
    assert health["cache"]["state"] == "degraded"

    redis_server.start()
    clock.advance(2.5)  # past the guard's retry interval: the next call tries Redis again
    await first.get("/api/prices?symbols=SOL")
    simulator.reset_calls()
    assert (await second.get("/api/prices?symbols=SOL")).status == 200
    assert sum(simulator.call_counts().values()) == 0  # the other replica's fill was shared again
    health = await (await first.get("/api/health")).json()
    assert health["cache"]["state"] == "ok"


async def test_requests_that_differ_only_in_limit_share_one_upstream_call_across_replicas(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    first, second = await replicas(make_service, redis_server)
    five = await (await first.get("/api/ohlcv?symbol=BTC&interval=1h&limit=5")).json()
    two = await (await second.get("/api/ohlcv?symbol=BTC&interval=1h&limit=2")).json()
    assert simulator.calls("binance", KLINES) == 1
    assert [request.query["limit"] for request in simulator.requests] == ["1000"]
    assert two["data"] == five["data"][-2:]  # the newest two of the one shared entry


async def test_one_price_board_serves_every_symbol_list_across_replicas(
    make_service: Any, redis_server: Any, simulator: UpstreamSimulator
) -> None:
    first, second = await replicas(make_service, redis_server)
    assert (await first.get("/api/prices?symbols=BTC")).status == 200
    calls = simulator.call_counts()
    for client, symbols in ((second, "ETH,SOL"), (first, "XRP"), (second, "")):
        response = await client.get(f"/api/prices?symbols={symbols}")
        assert response.status == 200, await response.text()
    assert simulator.call_counts() == calls  # one call per price provider, for everyone
