"""Running the service: REST and/or gRPC in one process around one container.

Lifecycle: start the container, start the servers, wait for SIGTERM/SIGINT, then stop
accepting and drain both servers within SHUTDOWN_GRACE, and only then close the container's
resources (the HTTP session, the Redis client) that in-flight requests were still using.

In sandbox mode (SANDBOX=true) the simulated upstream starts first and stops last, around
everything else, in the same event loop, unless the caller runs one already (the
supervisor of ``serve --workers N`` shares one between its workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator, Mapping

import structlog
from aiohttp import web

from entrypoints.container import Container, build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from entrypoints.rest.app import create_app
from entrypoints.rest.connections import guarded_runner
from entrypoints.sandbox import announce, sandboxed, start_upstream
from entrypoints.settings import Settings
from simulator import UpstreamSimulator

log = structlog.get_logger("serve")


class Service:
    """The servers of one process sharing one container and one set of use cases.

    With ``settings.sandbox`` the providers are the simulator at ``sandbox_upstream`` (base
    URL per provider id) or, without one, a simulator this service starts and stops itself.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        rest: bool = True,
        grpc: bool = True,
        reuse_port: bool = False,
        sandbox_upstream: Mapping[str, str] | None = None,
    ) -> None:
        if not (rest or grpc):
            raise ValueError("nothing to serve: enable REST, gRPC or both")
        self._settings = settings
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
                app = create_app(settings, self._container, use_cases)
                # access_log=None: our middleware writes the access log, in our format
                self._rest = guarded_runner(app, access_log=None, shutdown_timeout=settings.shutdown_grace)
                await self._rest.setup()
                await web.TCPSite(
                    self._rest, settings.host, settings.port, reuse_port=self._reuse_port or None
                ).start()
                self.rest_port = self._rest.addresses[0][1]
                log.info("rest listening", host=settings.host, port=self.rest_port)
            if self._want_grpc:
                self.grpc = GrpcServer(settings, use_cases, reuse_port=self._reuse_port)
                self.grpc_port = await self.grpc.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop both servers concurrently (each drains within SHUTDOWN_GRACE), then the container."""
        stopping = [server.stop() for server in (self.grpc,) if server is not None]
        if self._rest is not None:
            stopping.append(self._rest.cleanup())
        self.grpc, self._rest = None, None
        try:
            for outcome in await asyncio.gather(*stopping, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.error("server did not stop cleanly", exc_info=outcome)
                elif isinstance(outcome, BaseException):
                    raise outcome
        finally:
            container, self._container = self._container, None
            simulator, self.simulator = self.simulator, None
            try:
                if container is not None:
                    await stop(container)
                    log.info("stopped")
            finally:
                if simulator is not None:  # last: in-flight upstream calls were still using it
                    await simulator.stop()

    async def _start_sandbox(self, settings: Settings) -> Settings:
        """Start the simulated upstream unless the caller runs one; the settings pointed at it."""
        urls = self._sandbox_upstream
        if urls is None:
            self.simulator = await start_upstream(settings.sandbox_seed)
            urls = self.simulator.base_urls
        sandbox_settings = sandboxed(settings, urls)
        announce(settings, urls)
        return sandbox_settings


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
) -> None:
    """Serve until SIGTERM/SIGINT (or ``stopping`` is set), then shut down gracefully.

    ``ready`` is called with the service once every server listens, e.g. for tests or an
    embedding program to learn the bound ports. ``sandbox_upstream``: see ``Service``.
    """
    stopping = stopping or asyncio.Event()
    service = Service(
        settings, rest=rest, grpc=grpc, reuse_port=reuse_port, sandbox_upstream=sandbox_upstream
    )
    try:
        # Handlers first: a SIGTERM that arrives while the servers start (they accept
        # connections before start() returns) still drains instead of killing the process.
        with _stop_on_signals(stopping):
            await service.start()
            if ready is not None and not stopping.is_set():
                ready(service)
            await stopping.wait()
        log.info("shutting down", grace=settings.shutdown_grace)
    finally:
        await service.stop()
