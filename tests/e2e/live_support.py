"""The REST service as ``serve`` runs it (guarded runner, the process's shutdown), with a fake
live feed and stream report in the container, on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from dependency_injector import providers

from entrypoints.container import Container, build_container, start, stop
from entrypoints.rest.app import create_app
from entrypoints.rest.connections import ConnectionLimits, guarded_runner
from entrypoints.settings import Settings
from entrypoints.shutdown import ShutdownCoordinator
from simulator import UpstreamSimulator
from tests.conftest import settings_for
from tests.fake_live_feed import MINUTE_MS, T0, FakeLiveFeed, FakeStreamReport


@dataclass
class LiveService:
    """A started REST server with its fake feed."""

    settings: Settings
    container: Container
    feed: FakeLiveFeed | None
    shutdown: ShutdownCoordinator
    runner: web.AppRunner
    port: int
    stopped: bool = False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.shutdown.begin()
        await self.runner.cleanup()
        await stop(self.container)


StartLive = Callable[..., Awaitable[LiveService]]


def override_live(container: Container, feed: object, report: object) -> None:
    """Put ``feed`` and ``report`` where the container's live feed and stream report go."""
    container.application.live_feed.override(providers.Object(feed))
    container.application.stream_report.override(providers.Object(report))


@pytest.fixture
async def start_live(simulator: UpstreamSimulator) -> AsyncIterator[StartLive]:
    """Start services: ``feed`` (default a new FakeLiveFeed; None: streams off), ``report``,
    ``per_client`` connections, and settings overrides as keywords."""
    started: list[LiveService] = []

    async def begin(feed: Any = "new", report: Any = None, per_client: int = 64, **overrides: Any) -> LiveService:
        if feed == "new":
            feed = FakeLiveFeed()
        settings = settings_for(simulator, shutdown_grace=1.0, **overrides)
        container = build_container(settings)
        override_live(container, feed, report)
        use_cases = await start(container)
        shutdown = ShutdownCoordinator(settings.shutdown_grace)
        app = create_app(settings, container, use_cases, shutdown)
        runner = guarded_runner(app, limits=ConnectionLimits(per_client), access_log=None,
                                shutdown_timeout=settings.shutdown_grace)  # fmt: skip
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        service = LiveService(settings, container, feed, shutdown, runner, runner.addresses[0][1])
        started.append(service)
        return service

    yield begin
    for service in reversed(started):
        await service.stop()


# -- WebSocket client helpers --------------------------------------------------------------

SUBSCRIBE_BTC = {"op": "subscribe", "channel": "candles", "symbol": "BTC", "interval": "1m", "id": 7}
SNAPSHOT_BTC = [  # the fake feed's default history, as the client must see it
    {"timestamp": T0 - 2 * MINUTE_MS, "open": 99.0, "high": 102.0, "low": 97.0, "close": 100.0, "volume": 1.5, "closed": True},
    {"timestamp": T0 - MINUTE_MS, "open": 100.0, "high": 103.0, "low": 98.0, "close": 101.0, "volume": 1.5, "closed": True},
    {"timestamp": T0, "open": 101.0, "high": 104.0, "low": 99.0, "close": 102.0, "volume": 1.5, "closed": False},
]  # fmt: skip


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    """The next JSON message (a safety net timeout, not a timing assertion)."""
    message = await ws.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return orjson.loads(message.data)


async def send(ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> None:
    await ws.send_str(orjson.dumps(message).decode())


async def closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> tuple[int | None, str]:
    """Read until the server's close frame: its code and reason."""
    while True:
        message = await ws.receive(timeout=timeout)
        if message.type is aiohttp.WSMsgType.CLOSE:
            return message.data, message.extra or ""
        if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return None, ""


async def subscribed_btc(service: LiveService, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(service.ws_url)
    await send(ws, SUBSCRIBE_BTC)
    assert (await receive(ws))["type"] == "subscribed"
    assert (await receive(ws))["type"] == "snapshot"
    return ws
