"""The REST server's runner: aiohttp's ``AppRunner`` whose connections are
``GuardedRequestHandler``s sharing one ``ConnectionGuard``."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from entrypoints.rest.app_keys import CONTAINER, SETTINGS
from entrypoints.rest.connections.file_limit import raise_file_limit
from entrypoints.rest.connections.flood_log import FloodLog
from entrypoints.rest.connections.guard import ConnectionGuard
from entrypoints.rest.connections.protocol import GuardedRequestHandler
from entrypoints.rest.connections.registry import ConnectionLimits, ConnectionRegistry

# The server's connection registry, for handlers that hold connections (WebSocket, SSE).
CONNECTIONS = web.AppKey("connections", ConnectionRegistry)
log = structlog.get_logger("http")


class GuardedServer(web.Server):
    """aiohttp's low-level server, making guarded connections."""

    def __init__(self, handler: Any, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.guard = guard

    def __call__(self) -> GuardedRequestHandler:
        return GuardedRequestHandler(self, self.guard, loop=self._loop, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """``web.AppRunner`` serving through a ``GuardedServer``."""

    __slots__ = ("_guard",)

    def __init__(self, app: web.Application, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._guard = guard

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # the app started and frozen, its handler made
        return GuardedServer(
            plain.request_handler,
            guard=self._guard,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )


def served_limits(per_client: int) -> ConnectionLimits:
    """Raise the soft file limit to the hard one, log both, and split it into the
    connections served and the reserve."""
    limit = raise_file_limit()
    log.info(
        "file limit", soft_before=limit.soft_before, soft=limit.soft, hard=limit.hard,
        open_at_start=limit.open_at_start, reserve=limit.reserve, served=limit.served,
        with_reserve=limit.with_reserve, per_client=per_client,
    )  # fmt: skip
    return ConnectionLimits(per_client, limit.served, limit.with_reserve)


def guarded_runner(
    app: web.Application, *, limits: ConnectionLimits | None = None, **kwargs: Any
) -> GuardedAppRunner:
    """The runner of the REST app made by ``create_app`` (its settings, metrics and clock
    come from the app); ``kwargs`` go to ``web.AppRunner``.

    ``limits``: by default from the settings and the process's file limit, which is raised
    to the hard limit here; tests pass small ones instead of lowering the real limit.
    """
    settings = app[SETTINGS]
    container = app[CONTAINER]
    registry = ConnectionRegistry(limits or served_limits(settings.max_connections_per_client))
    app[CONNECTIONS] = registry
    guard = ConnectionGuard(
        registry,
        header_timeout=settings.http_header_timeout,
        flood=FloodLog(log, container.shared.clock()),
        metrics=container.metrics(),
    )
    return GuardedAppRunner(app, guard, keepalive_timeout=settings.http_keepalive_timeout, **kwargs)
