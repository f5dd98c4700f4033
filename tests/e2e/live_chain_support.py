"""The real live chain for end-to-end tests: the simulator's WebSocket side -> the stream
adapters -> the supervisor -> the bus -> the fan-out -> the edges (WebSocket, SSE, gRPC) ->
clients over real loopback sockets.

Time: the simulator and the service read one ``WallClock`` (its wall time moves only when a
test says so, monotonic time is real), so the candles the simulator pushes are exactly the
candles its REST API answers with at the same moment, and a test crosses a candle close by
moving the clock, never by sleeping. Only the stream adapters' timings are shortened (the
real adapters, with constructor parameters made for tests); nothing else is replaced.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import orjson
import pytest
from aiohttp import web
from dependency_injector import providers

from adapters.streams.binance import binance_stream
from adapters.streams.kraken import kraken_stream
from adapters.streams.timing import StreamTiming
from domain.reconnect_backoff import ReconnectBackoff
from entrypoints.container import Container, build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from entrypoints.rest.app import create_app
from entrypoints.rest.connections import ConnectionLimits, guarded_runner
from entrypoints.settings import Settings
from entrypoints.shutdown import ShutdownCoordinator
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from simulator.stream_session import StreamSettings
from tests.conftest import settings_for

MINUTE_MS = 60_000
#: A minute's open: the wall clock starts 30 s into it.
T0 = 1_780_000_020
T0_MS = T0 * 1000

#: The simulator's WebSocket side, fast: Binance pings every 0.3 s, Kraken beats every 0.2 s.
SIM_STREAMS = StreamSettings(ping_interval=0.3, pong_timeout=2.0, heartbeat_interval=0.2)
#: The adapters' timings, short: a silent connection is replaced after 1.2 s, reconnects
#: wait 50 to 400 ms.
FAST_BACKOFF = ReconnectBackoff(base=0.1, cap=0.4)
FAST_BINANCE = StreamTiming(liveness_timeout=1.2, ack_timeout=2.0, connect_timeout=2.0, backoff=FAST_BACKOFF,
                            attempt_limit=100, attempt_window=300.0)  # fmt: skip
FAST_KRAKEN = StreamTiming(liveness_timeout=1.2, ack_timeout=2.0, connect_timeout=2.0, backoff=FAST_BACKOFF,
                           attempt_limit=50, attempt_window=600.0)  # fmt: skip


class WallClock:
    """Implements Clock for the service and is the simulator's ``now``: the wall time stands
    still until ``advance`` moves it; monotonic time is real (leases, waits)."""

    def __init__(self, wall: float = T0 + 30) -> None:
        self.wall = float(wall)

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        self.wall += seconds

    @property
    def minute_ms(self) -> int:
        """The open time (ms) of the minute in progress."""
        ms = int(self.wall * 1000)
        return ms - ms % MINUTE_MS


@dataclass
class ChainService:
    """One service instance (REST, and gRPC when asked) over the real live chain."""

    settings: Settings
    container: Container
    runner: web.AppRunner
    port: int
    grpc_server: GrpcServer | None
    channel: grpc.aio.Channel | None
    shutdown: ShutdownCoordinator
    stopped: bool = False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def stub(self) -> pb_grpc.MarketDataStub:
        assert self.channel is not None, "started without grpc"
        return pb_grpc.MarketDataStub(self.channel)

    supervisor: Any = None  # the StreamSupervisor (started with the container)

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.shutdown.begin()
        if self.channel is not None:
            await self.channel.close()
        if self.grpc_server is not None:
            await self.grpc_server.stop()
        await self.runner.cleanup()
        await stop(self.container)


StartChain = Callable[..., Awaitable[ChainService]]


def fast_streams(container: Container, settings: Settings, binance: StreamTiming, kraken: StreamTiming) -> None:
    """The real stream adapters at the simulator's URLs, with short timings."""
    session = container.upstreams.http_session
    clock = container.shared.clock
    container.upstreams.streams.override(
        providers.Dict(
            binance=providers.Singleton(binance_stream, session, settings.binance_ws_url, clock, timing=binance),
            kraken=providers.Singleton(kraken_stream, session, settings.kraken_ws_url, clock, timing=kraken),
        )
    )


@pytest.fixture
def wall() -> WallClock:
    """The wall clock the simulator and the services share."""
    return WallClock()


@pytest.fixture
async def chain_sim(wall: WallClock) -> AsyncIterator[UpstreamSimulator]:
    """The upstream simulator on the shared wall clock, its WebSocket side fast, pushing only
    when a test calls ``streams.push()``."""
    sim = UpstreamSimulator(now=wall.now, stream_settings=SIM_STREAMS)
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def start_chain(chain_sim: UpstreamSimulator, wall: WallClock) -> AsyncIterator[StartChain]:
    """Start service instances over the real chain (``with_grpc`` for a gRPC server on the same
    container; ``binance``/``kraken`` adapter timings; ``prepare`` overrides providers of the
    container before it starts; settings overrides as keywords)."""
    started: list[ChainService] = []

    async def begin(
        with_grpc: bool = False, binance: StreamTiming = FAST_BINANCE, kraken: StreamTiming = FAST_KRAKEN,
        prepare: Callable[[Container], None] | None = None, **overrides: Any,
    ) -> ChainService:  # fmt: skip
        values: dict[str, Any] = {"shutdown_grace": 1.0, "grpc_port": 0, **overrides}
        settings = settings_for(chain_sim, **values)
        container = build_container(settings)
        container.shared.clock.override(providers.Object(wall))
        fast_streams(container, settings, binance, kraken)
        if prepare is not None:  # the test's own overrides, before anything is built
            prepare(container)
        use_cases = await start(container)
        shutdown = ShutdownCoordinator(settings.shutdown_grace)
        app = create_app(settings, container, use_cases, shutdown)
        runner = guarded_runner(app, limits=ConnectionLimits(64), access_log=None,
                                shutdown_timeout=settings.shutdown_grace)  # fmt: skip
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        server = channel = None
        if with_grpc:
            server = GrpcServer(settings, use_cases, shutdown=shutdown)
            port = await server.start()
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        service = ChainService(settings, container, runner, runner.addresses[0][1], server, channel, shutdown)
        supervisor = container.live.supervisor()
        service.supervisor = await supervisor if inspect.isawaitable(supervisor) else supervisor
        started.append(service)
        return service

    yield begin
    for service in reversed(started):
        await service.stop()


# -- expectations from the simulator's own numbers ------------------------------------------


async def rest_klines(sim: UpstreamSimulator, market: str, interval: str, start_ms: int, limit: int) -> list[list[Any]]:
    """The simulator's Binance REST klines from ``start_ms``, at its clock now."""
    params = {"symbol": market, "interval": interval, "startTime": str(start_ms), "limit": str(limit)}
    async with aiohttp.ClientSession() as http:
        async with http.get(sim.base_urls["binance"] + "/api/v3/klines", params=params) as response:
            assert response.status == 200, await response.text()
            rows: list[list[Any]] = await response.json()
    return rows


def candle_of(row: list[Any], closed: bool) -> dict[str, Any]:
    """A Binance klines row as the service's clients must see it."""
    return {"timestamp": row[0], "open": float(row[1]), "high": float(row[2]), "low": float(row[3]),
            "close": float(row[4]), "volume": float(row[5]), "closed": closed}  # fmt: skip


async def sim_candle(sim: UpstreamSimulator, market: str, interval: str, open_ms: int, closed: bool) -> dict[str, Any]:
    """The candle opening at ``open_ms`` as the simulator's REST API has it now."""
    (row,) = await rest_klines(sim, market, interval, open_ms, 1)
    assert row[0] == open_ms
    return candle_of(row, closed)


# -- clients ---------------------------------------------------------------------------------


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    """The next JSON message (the timeout is a safety net, not a timing assertion)."""
    message = await ws.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    body: dict[str, Any] = orjson.loads(message.data)
    return body


async def send(ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> None:
    await ws.send_str(orjson.dumps(message).decode())


async def subscribe_candles(
    ws: aiohttp.ClientWebSocketResponse, symbol: str = "BTC", interval: str = "1m", ident: int = 1
) -> dict[str, Any]:
    """Subscribe; returns the snapshot."""
    await send(ws, {"op": "subscribe", "channel": "candles", "symbol": symbol, "interval": interval, "id": ident})
    assert (await receive(ws, 10.0))["type"] == "subscribed"
    snapshot = await receive(ws, 10.0)
    assert snapshot["type"] == "snapshot", snapshot
    return snapshot


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 8.0,
                     every: float = 0.05) -> None:  # fmt: skip
    """Wait until ``check()`` is true (a safety-net timeout; fails with the last state)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {getattr(check, '__name__', check)}")
        await asyncio.sleep(every)


async def get_json(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body: dict[str, Any] = await response.json()
        return body


async def stream_health(service: ChainService, provider: str = "binance") -> dict[str, Any]:
    """The ``streams`` entry of ``provider`` in GET /api/health."""
    health = await get_json(service.url("/api/health"))
    (entry,) = [s for s in health["streams"] if s["provider"] == provider]
    return entry


async def candle_updates(ws: aiohttp.ClientWebSocketResponse, until: Callable[[list[dict[str, Any]]], bool],
                         timeout: float = 8.0) -> list[dict[str, Any]]:  # fmt: skip
    """Read update messages (other messages are skipped) until ``until(updates)``."""
    updates: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not until(updates):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"updates so far: {updates}")
        message = await receive(ws, left)
        if message["type"] == "update":
            updates.append(message)
    return updates


async def sim_ticker(sim: UpstreamSimulator, market: str) -> dict[str, Any]:
    """The simulator's Binance REST 24-hour ticker of ``market``, at its clock now (the
    miniTicker it pushes carries the same figures)."""
    async with aiohttp.ClientSession() as http:
        url = sim.base_urls["binance"] + "/api/v3/ticker/24hr"
        async with http.get(url, params={"symbol": market}) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
            return body


class SseReader:
    """Reads a text/event-stream response one event at a time."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 8.0) -> tuple[str, dict[str, Any], str | None]:
        """(event, data, id) of the next event (comments and retry lines skipped)."""
        event, ident, data = "message", None, None
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.response.content.readline()).decode()
                if not line:
                    raise AssertionError("the stream ended")
                line = line.rstrip("\n")
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("id: "):
                    ident = line[len("id: "):]
                elif line.startswith("data: "):
                    data = orjson.loads(line[len("data: "):])
                elif line == "" and data is not None:
                    return event, data, ident


async def upstream_holds(sim: UpstreamSimulator, provider: str, *names: str, timeout: float = 8.0) -> None:
    """Wait until the simulator's open connections of ``provider`` carry ``names`` (exactly
    these, each once)."""
    await eventually(lambda: sim.streams.log.subscriptions(provider) == sorted(names), timeout)
