"""Connections: a request head must complete within HTTP_HEADER_TIMEOUT, an idle keep-alive
connection lasts HTTP_KEEPALIVE_TIMEOUT, one client holds at most MAX_CONNECTIONS_PER_CLIENT,
and past the file-descriptor limit less its reserve only health and metrics are answered.

Real sockets on loopback against the server as ``serve`` runs it; the waits are real (this is
about sockets), with timeouts of a fraction of a second."""

from __future__ import annotations

import asyncio
import re
import time
from email.utils import parsedate_to_datetime
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from entrypoints.container import build_container, start, stop
from entrypoints.rest.app import create_app
from entrypoints.rest.connections import CONNECTIONS, ConnectionLimits, guarded_runner
from simulator import UpstreamSimulator
from tests.conftest import settings_for
from tests.e2e import raw_http
from tests.e2e.raw_http import RawConnection, ServiceLog, StartService

serve = raw_http.serve
service_log = raw_http.service_log

# Under load (six suites on two cores) a timer may fire late. Never early, but client and
# server start their clocks a loop iteration apart.
LATE = 2.0
SKEW = 0.05


def _metric(metrics: bytes, reason: str) -> float:
    line = rf'^cde_http_connections_refused_total{{reason="{reason}"}} (\S+)$'
    match = re.search(line, metrics.decode(), re.MULTILINE)
    assert match, f"no refused counter for {reason}"
    return float(match.group(1))


# -- request heads -----------------------------------------------------------------------


async def test_a_client_trickling_its_request_head_gets_408_and_is_closed(
    serve: StartService, service_log: ServiceLog
) -> None:
    service = await serve(http_header_timeout=0.5, http_keepalive_timeout=30)
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def trickle() -> None:  # one byte every 50 ms, never the blank line that ends the head
        for byte in b"GET /api/health HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"z" * 100:
            await client.send(bytes([byte]))
            await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    try:
        answer = await client.response()
        assert await client.closed_by_server() == b""
        elapsed = loop.time() - started
    finally:
        trickling.cancel()
        await client.close()

    assert 0.5 - SKEW <= elapsed < 0.5 + LATE
    assert answer.status == 408
    assert answer.headers["connection"] == "close"
    assert answer.headers["server"] == "crypto-data-engine"  # as on every other answer
    assert abs(parsedate_to_datetime(answer.headers["date"]).timestamp() - time.time()) < 60
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    assert answer.json()["error"]["code"] == "REQUEST_TIMEOUT"
    warnings = service_log.above_info()
    assert [(line["event"], line["answered"], line["request_id"]) for line in warnings] == [
        ("request head timed out", True, answer.headers["x-request-id"])
    ]


async def test_a_partial_head_behind_a_complete_request_in_the_same_write_gets_408(
    serve: StartService,
) -> None:
    # The clock of the second head starts when its first bytes arrive, although they came
    # with a complete request (so the server was never idle waiting for them).
    service = await serve(http_header_timeout=0.5, http_keepalive_timeout=30)
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await client.send(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\nGET /api/health HTTP/1.1\r\nHo")
        first = await client.response()
        second = await client.response()
        assert await client.closed_by_server() == b""
        elapsed = loop.time() - started
    finally:
        await client.close()
    assert (first.status, second.status) == (200, 408)
    assert second.json()["error"]["code"] == "REQUEST_TIMEOUT"
    assert 0.5 - SKEW <= elapsed < 0.5 + LATE  # not the keep-alive timeout's 30 s


async def test_a_partial_head_sent_while_a_handler_runs_gets_408_after_its_answer(
    serve: StartService, simulator: UpstreamSimulator
) -> None:
    for provider in ("alternative_me", "binance"):
        simulator.set_fault(provider, "slow", delay=1.0)
    service = await serve(http_header_timeout=0.3, http_keepalive_timeout=30)
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await client.send(b"GET /api/sentiment HTTP/1.1\r\nHost: test\r\n\r\n")
        await asyncio.sleep(0.1)  # the handler waits for the slow upstream
        await client.send(b"GET /api/health HTTP/1.1\r\nHo")
        first = await client.response()
        second = await client.response()  # overdue since 0.4 s: sent once the first is answered
        assert await client.closed_by_server() == b""
        elapsed = loop.time() - started
    finally:
        await client.close()
    assert (first.status, second.status) == (200, 408)
    assert 1.0 - SKEW <= elapsed < 1.0 + LATE  # not the keep-alive timeout's 30 s


async def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    serve: StartService,
) -> None:
    service = await serve(http_header_timeout=0.5, http_keepalive_timeout=30)
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        assert await client.closed_by_server() == b""  # nothing was asked: nothing is answered
        elapsed = loop.time() - started
    finally:
        await client.close()
    assert 0.5 - SKEW <= elapsed < 0.5 + LATE


async def test_an_idle_keep_alive_connection_lasts_the_keepalive_timeout_not_the_header_timeout(
    serve: StartService,
) -> None:
    service = await serve(http_header_timeout=0.3, http_keepalive_timeout=1.5)
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    try:
        assert (await client.request("/api/health")).status == 200
        await asyncio.sleep(0.8)  # idle for longer than a head may take: still open
        assert (await client.request("/api/health")).status == 200
        answered = loop.time()
        assert await client.closed_by_server() == b""
        idle = loop.time() - answered
    finally:
        await client.close()
    assert 1.5 - SKEW <= idle < 1.5 + LATE


# -- connections per client ------------------------------------------------------------------


async def test_a_client_over_its_connection_cap_is_closed_at_once_and_counted(
    serve: StartService, service_log: ServiceLog
) -> None:
    service = await serve(max_connections_per_client=3)
    port = service.rest_port
    held = [await RawConnection.open(port) for _ in range(3)]  # type: ignore[arg-type]
    try:
        for connection in held:  # answered: each one is registered
            assert (await connection.request("/api/health")).status == 200
        fourth = await RawConnection.open(port)  # type: ignore[arg-type]
        try:
            assert await fourth.closed_by_server(timeout=2) == b""
        finally:
            await fourth.close()
        metrics = (await held[0].request("/metrics")).body
        assert _metric(metrics, "client_cap") == 1.0

        await held.pop().close()  # one fewer: a new one is served again
        held.append(await _served_again(port))  # type: ignore[arg-type]
    finally:
        for connection in held:
            await connection.close()

    refused = [line for line in service_log.above_info() if line["event"] == "connection refused"]
    assert [(line["reason"], line["client"], line["held"]) for line in refused] == [
        ("client_cap", "127.0.0.1", 3)
    ]


async def _served_again(port: int) -> RawConnection:
    """A new connection, answered, once the server has seen an earlier one close (it may
    accept the new one before it reads the old one's end: then that one is refused)."""
    async with asyncio.timeout(5):
        while True:
            connection = await RawConnection.open(port)
            try:
                assert (await connection.request("/api/health")).status == 200
                return connection
            except (asyncio.IncompleteReadError, ConnectionResetError):
                await connection.close()
                await asyncio.sleep(0.05)


# -- the descriptor reserve ------------------------------------------------------------------


@pytest.fixture
async def small_limit_server(simulator: UpstreamSimulator) -> AsyncIterator[tuple[int, web.Application]]:
    """The REST server with room for 3 connections, plus 2 in the reserve (instead of the
    process's real file limit, which the test does not lower)."""
    settings = settings_for(simulator)
    container = build_container(settings)
    app = create_app(settings, container, await start(container))
    limits = ConnectionLimits(per_client=100, served=3, with_reserve=5)
    runner = guarded_runner(app, limits=limits, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield runner.addresses[0][1], app
    finally:
        await runner.cleanup()
        await stop(container)


async def _until_open(app: web.Application, count: int) -> None:
    """Wait until the server has accepted ``count`` connections (accepting is asynchronous)."""
    async with asyncio.timeout(5):
        while app[CONNECTIONS].open != count:
            await asyncio.sleep(0.01)


async def test_past_the_reserve_only_health_and_metrics_are_answered(
    small_limit_server: tuple[int, web.Application], service_log: ServiceLog
) -> None:
    port, app = small_limit_server
    held = [await RawConnection.open(port) for _ in range(3)]
    try:
        for connection in held:
            assert (await connection.request("/api/health")).status == 200

        data = await RawConnection.open(port)  # in the reserve: not for data
        try:
            refused = await data.request("/api/prices?symbols=BTC")
            assert await data.closed_by_server() == b""
        finally:
            await data.close()
        assert refused.status == 503
        assert refused.headers["retry-after"] == "5"
        assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])
        assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert refused.json()["error"]["details"] == {"reason": "connection_reserve"}

        for path in ("/api/health", "/metrics"):  # in the reserve: answered, then closed
            probe = await RawConnection.open(port)
            try:
                answer = await probe.request(path)
                assert await probe.closed_by_server() == b""
            finally:
                await probe.close()
            assert (answer.status, answer.headers["connection"]) == (200, "close")

        idle = [await RawConnection.open(port) for _ in range(2)]  # the reserve, taken
        held += idle
        await _until_open(app, 5)
        beyond = await RawConnection.open(port)
        try:
            assert await beyond.closed_by_server(timeout=2) == b""  # closed at once, unanswered
        finally:
            await beyond.close()
        for connection in idle:
            await connection.close()
        await _until_open(app, 3)
        metrics = (await held[0].request("/metrics")).body
        assert _metric(metrics, "reserve_full") == 1.0
    finally:
        for connection in held:
            await connection.close()

    events = [line["event"] for line in service_log.above_info()]
    assert sum(event.startswith("connection reserve reached") for event in events) == 1
