"""Running the service: REST and/or gRPC in one process around one container.

Lifecycle: start the container, start the servers, wait for SIGTERM/SIGINT, then stop
accepting and drain both servers, and only then close the container's resources (the HTTP
session, the Redis client) that in-flight requests were still using. Every step of the
shutdown keeps to the timeline of ``entrypoints.shutdown``: requests still running when the
grace is nearly spent are answered 503/UNAVAILABLE, and the process is gone within
SHUTDOWN_GRACE (+1 s).

In sandbox mode (SANDBOX=true) the simulated upstream starts first and stops last, around
everything else, in the same event loop, unless the caller runs one already (the
supervisor of ``serve --workers N`` shares one between its workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any

import structlog
from aiohttp import web

from entrypoints.container import Container, build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from entrypoints.rest.app import create_app
from entrypoints.rest.connections import guarded_runner
from entrypoints.rest.draining import cancel_in_flight
from entrypoints.sandbox import announce, sandboxed, start_upstream
from entrypoints.settings import Settings
from entrypoints.shutdown import ShutdownCoordinator
from simulator import UpstreamSimulator

log = structlog.get_logger("serve")


class Service:
    """The servers of one process sharing one container and one set of use cases.

    With ``settings.sandbox`` the providers are the simulator at ``sandbox_upstream`` (base
    URL per provider id) or, without one, a simulator this service starts and stops itself.
    ``hard_stop``: a process of its own, which ends itself if its shutdown overruns the
    grace (see ``entrypoints.shutdown``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        rest: bool = True,
        grpc: bool = True,
        reuse_port: bool = False,
        sandbox_upstream: Mapping[str, str] | None = None,
        hard_stop: bool = False,
    ) -> None:
        if not (rest or grpc):
            raise ValueError("nothing to serve: enable REST, gRPC or both")
        self._settings = settings
        self.shutdown = ShutdownCoordinator(settings.shutdown_grace, hard_stop=hard_stop)
        self._sandbox_upstream = sandbox_upstream
        self.simulator: UpstreamSimulator | None = None
        self._reuse_port = reuse_port
        self._want_rest = rest
        self._want_grpc = grpc
        self._container: Container | None = None
        self._rest: web.AppRunner | None = None
        self.grpc: GrpcServer | None = None
        self.rest_port: int | None = None
        self.grpc_port: int | None = None

    @property
    def settings(self) -> Settings:
        """The settings served with: in sandbox mode, pointed at the simulator once started."""
        return self._settings

    async def start(self) -> None:
        """Start the container and the servers; on failure, undo whatever had started."""
        try:
            if self._settings.sandbox:
                self._settings = await self._start_sandbox(self._settings)
            settings = self._settings
            self._container = build_container(settings)
            use_cases = await start(self._container)
            if self._want_rest:
                app = create_app(settings, self._container, use_cases, self.shutdown)
                # access_log=None: our middleware writes the access log, in our format
                self._rest = guarded_runner(app, access_log=None, shutdown_timeout=settings.shutdown_grace)
                await self._rest.setup()
                await web.TCPSite(
                    self._rest, settings.host, settings.port, reuse_port=self._reuse_port or None
                ).start()
                self.shutdown.on_cut(functools.partial(cancel_in_flight, self._rest.server))
                self.rest_port = self._rest.addresses[0][1]
                log.info("rest listening", host=settings.host, port=self.rest_port)
            if self._want_grpc:
                self.grpc = GrpcServer(
                    settings, use_cases, reuse_port=self._reuse_port, shutdown=self.shutdown
                )
                self.grpc_port = await self.grpc.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Drain and stop both servers concurrently, then the container, then a sandbox
        upstream: each step by its time on the shutdown's timeline, abandoned past it."""
        shutdown = self.shutdown
        shutdown.begin()
        timeline = shutdown.timeline
        stopping = [server.stop() for server in (self.grpc,) if server is not None]
        if self._rest is not None:
            stopping.append(self._rest.cleanup())
        self.grpc, self._rest = None, None
        try:
            await _within(shutdown.seconds_until(timeline.servers_by), "servers", *stopping)
        finally:
            container, self._container = self._container, None
            simulator, self.simulator = self.simulator, None
            try:
                if container is not None:
                    await _within(shutdown.seconds_until(timeline.resources_by), "resources", stop(container))
                    log.info("stopped")
            finally:
                if simulator is not None:  # last: in-flight upstream calls were still using it
                    await _within(shutdown.seconds_until(timeline.resources_by), "sandbox upstream",
                                  simulator.stop())  # fmt: skip

    async def _start_sandbox(self, settings: Settings) -> Settings:
        """Start the simulated upstream unless the caller runs one; the settings pointed at it."""
        urls = self._sandbox_upstream
        if urls is None:
            self.simulator = await start_upstream(settings.sandbox_seed)
            urls = self.simulator.base_urls
        sandbox_settings = sandboxed(settings, urls)
        announce(settings, urls)
        return sandbox_settings


async def _within(seconds: float, what: str, *steps: Coroutine[Any, Any, None]) -> None:
    """Run ``steps`` concurrently for at most ``seconds``; what is still running then is
    cancelled and left behind (the shutdown does not wait for it). Errors are logged."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    if pending:
        log.error("shutdown step overran its time on the timeline: abandoned",
                  step=what, seconds=round(seconds, 3))  # fmt: skip
    for task in done:
        if task.cancelled():
            continue
        error = task.exception()
        if isinstance(error, Exception):
            log.error("did not stop cleanly", step=what, exc_info=error)
        elif error is not None:
            raise error


@contextlib.contextmanager
def _stop_on_signals(stopping: asyncio.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stopping`` instead of killing the process mid-request."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stopping.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            continue
        installed.append(sig)
    try:
        yield
    finally:
        # Removed before the drain: a second Ctrl-C during shutdown stops hard, as users expect.
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run(
    settings: Settings,
    *,
    rest: bool = True,
    grpc: bool = True,
    stopping: asyncio.Event | None = None,
    ready: Callable[[Service], object] | None = None,
    reuse_port: bool = False,
    sandbox_upstream: Mapping[str, str] | None = None,
    hard_stop: bool = False,
) -> None:
    """Serve until SIGTERM/SIGINT (or ``stopping`` is set), then shut down gracefully.

    ``ready`` is called with the service once every server listens, e.g. for tests or an
    embedding program to learn the bound ports. ``sandbox_upstream`` and ``hard_stop``
    (only for a process of its own): see ``Service``.
    """
    stopping = stopping or asyncio.Event()
    service = Service(
        settings, rest=rest, grpc=grpc, reuse_port=reuse_port, sandbox_upstream=sandbox_upstream,
        hard_stop=hard_stop,
    )  # fmt: skip
    try:
        # Handlers first: a SIGTERM that arrives while the servers start (they accept
        # connections before start() returns) still drains instead of killing the process.
        with _stop_on_signals(stopping):
            await service.start()
            if ready is not None and not stopping.is_set():
                ready(service)
            await stopping.wait()
        timeline = service.shutdown.timeline
        log.info("shutting down", grace=timeline.grace, cut_after=timeline.cut_after)
    finally:
        await service.stop()
