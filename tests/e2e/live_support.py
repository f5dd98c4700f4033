"""The REST service as ``serve`` runs it (guarded runner, the process's shutdown), with a fake
live feed and stream report in the container, on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
from tests.fake_live_feed import FakeLiveFeed, FakeStreamReport


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


__all__ = ["FakeLiveFeed", "FakeStreamReport", "LiveService", "StartLive", "start_live"]
