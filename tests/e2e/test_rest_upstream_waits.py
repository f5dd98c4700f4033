"""REQUEST_TIMEOUT bounds the upstream call, not a wait for our own connection pool; a 503
says when asking again can help (issue 13)."""

from __future__ import annotations

import asyncio
import time

from application.upstream_concurrency import most_calls_in_flight
from entrypoints.container import build_container, stop

from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import SUPPORTED, data_of, provider_error

simulator = support.simulator
clock = support.clock
start = support.start_on_clock

async def test_every_call_that_can_be_in_flight_gets_a_connection_at_once(make_settings, simulator):
    """The service's own HTTP session (as the container wires it), 28 calls at once to a
    Binance that takes 2.0 s, REQUEST_TIMEOUT 3.8 s: more than 20, the old per-host pool, and
    fewer than the 14 bases x 3 quotes x 2 intervals that can be in flight (one call per cold
    cache key).

    With 20 connections per host, 8 calls waited 2.0 s for a connection and then had 1.8 s
    left for a 2.0 s answer: "timed out" (issue 13: 50 cold keys against a 3 s upstream came
    back in waves up to 10.2 s and one was a 503). The pool now holds every call that can be
    in flight, so none waits. A light endpoint keeps the test about waiting, not CPU.
    """
    settings = make_settings(
        request_timeout=3.8, supported_symbols=",".join(SUPPORTED), supported_intervals="1h,4h"
    )
    markets_and_more = (settings.supported_symbols, settings.supported_intervals, settings.price_providers)
    assert most_calls_in_flight(*markets_and_more) == 14 * 3 * 2 + 3 + 2
    container = build_container(settings)
    session = await container.upstreams.http_session()
    try:
        simulator.set_fault("binance", "slow", delay=2.0)
        url = simulator.base_urls["binance"] + "/api/v3/time"

        async def call() -> int:
            async with session.get(url) as response:
                await response.read()
                return response.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(call() for _ in range(28)), return_exceptions=True)
        elapsed = time.perf_counter() - started
    finally:
        await stop(container)
    assert statuses == [200] * 28
    assert elapsed < 4.0  # one wave: two take 4 s at least
    assert simulator.calls("binance", "/api/v3/time") == 28


async def test_a_spent_budget_says_when_it_refills_though_another_provider_said_nothing(start, simulator):
    """Binance fails with a 500 (no word on when) and our budget for Kraken (1 per 10 s) is
    spent: Kraken can be asked again in 10 s, so the answer says 10, not the default 30."""
    service = await start(upstream_budget_kraken="1/10 seconds")
    simulator.set_fault("binance", "http_500")
    assert (await data_of(await service.get("/api/ohlcv?symbol=BTC&interval=1h&limit=2")))["source"] == "kraken"
    response = await service.get("/api/ohlcv?symbol=ETH&interval=1h&limit=2")
    error = await provider_error(response, {"binance", "kraken"})
    assert error["retryAfter"] == 10 and response.headers["Retry-After"] == "10"
    assert error["details"]["kraken"] == "our request budget (1 per 10 second) is spent"


async def test_a_spent_budget_alone_says_when_it_refills(start, simulator, clock):
    service = await start(upstream_budget_kraken="1/10 seconds", ohlcv_providers="kraken")
    await data_of(await service.get("/api/ohlcv?symbol=BTC&interval=1h&limit=2"))
    clock.advance(4)
    response = await service.get("/api/ohlcv?symbol=ETH&interval=1h&limit=2")
    assert (await provider_error(response, {"kraken"}))["retryAfter"] == 6
    clock.advance(6)  # the first call is at the window's edge: still inside it, leaving now
    response = await service.get("/api/ohlcv?symbol=ETH&interval=1h&limit=2")
    assert (await provider_error(response, {"kraken"}))["retryAfter"] == 1  # not "0, so the default 30"
    clock.advance(0.001)
    await data_of(await service.get("/api/ohlcv?symbol=ETH&interval=1h&limit=2"))
