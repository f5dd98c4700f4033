"""Running the service: REST and/or gRPC in one process around one container.

Lifecycle: start the container, start the servers, wait for SIGTERM/SIGINT, then stop
accepting and drain both servers within SHUTDOWN_GRACE, and only then close the container's
resources (the HTTP session, later Redis) that in-flight requests were still using.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import structlog
from aiohttp import web

from entrypoints.container import Container, build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from entrypoints.rest.app import create_app
from entrypoints.settings import Settings

log = structlog.get_logger("serve")


class Service:
    """The servers of one process sharing one container and one set of use cases."""

    def __init__(
        self, settings: Settings, *, rest: bool = True, grpc: bool = True, reuse_port: bool = False
    ) -> None:
        if not (rest or grpc):
            raise ValueError("nothing to serve: enable REST, gRPC or both")
        self._settings = settings
        self._reuse_port = reuse_port
        self._want_rest = rest
        self._want_grpc = grpc
        self._container: Container | None = None
        self._rest: web.AppRunner | None = None
        self.grpc: GrpcServer | None = None
        self.rest_port: int | None = None
        self.grpc_port: int | None = None

    async def start(self) -> None:
        """Start the container and the servers; on failure, undo whatever had started."""
        settings = self._settings
        self._container = build_container(settings)
        try:
            use_cases = await start(self._container)
            if self._want_rest:
                app = create_app(settings, self._container, use_cases)
                # access_log=None: our middleware writes the access log, in our format
                self._rest = web.AppRunner(app, access_log=None, shutdown_timeout=settings.shutdown_grace)
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
            if container is not None:
                await stop(container)
                log.info("stopped")


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
) -> None:
    """Serve until SIGTERM/SIGINT (or ``stopping`` is set), then shut down gracefully.

    ``ready`` is called with the service once every server listens, e.g. for tests or an
    embedding program to learn the bound ports.
    """
    stopping = stopping or asyncio.Event()
    service = Service(settings, rest=rest, grpc=grpc, reuse_port=reuse_port)
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
