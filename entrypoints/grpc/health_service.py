"""The standard ``grpc.health.v1.Health`` service, with Watch streams that end at shutdown.

grpc's reference servicer (``grpc_health.v1.health.aio.HealthServicer``) keeps every Watch
stream open forever: at shutdown its watchers learn NOT_SERVING but their streams hold the
server until the grace is spent, then end CANCELLED. Here a watcher is told NOT_SERVING and
its stream then ends with status OK, as every other stream does when the server drains.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ServingStatus = health_pb2.HealthCheckResponse.ServingStatus.ValueType
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class HealthService(health_pb2_grpc.HealthServicer):
    """Check and Watch over a status per service name ("" is the whole server)."""

    def __init__(self) -> None:
        self._status: dict[str, ServingStatus] = {"": _SERVING}
        # Replaced on every change: a watcher that took the current one before reading the
        # status cannot miss a change made while it was writing.
        self._changed = asyncio.Event()
        self._shutting_down = False

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: Any
    ) -> health_pb2.HealthCheckResponse:
        """The current status of ``request.service``; NOT_FOUND for a service never set."""
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service[:64]!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: Any) -> None:
        """The status of ``request.service`` now and on every change; ends (OK) at shutdown,
        once NOT_SERVING has been sent."""
        last: ServingStatus | None = None
        while True:
            changed = self._changed
            status = self._status.get(request.service, _UNKNOWN)
            if status != last:
                await context.write(health_pb2.HealthCheckResponse(status=status))
                last = status
            if self._shutting_down:
                return
            await changed.wait()

    async def set(self, service: str, status: ServingStatus) -> None:
        """Publish ``status`` for ``service``; ignored once shutting down."""
        if not self._shutting_down:
            self._status[service] = status
            self._wake_watchers()

    async def enter_graceful_shutdown(self) -> None:
        """NOT_SERVING for every service from now on; watchers are told, then their streams end."""
        if self._shutting_down:
            return
        self._shutting_down = True
        for service in self._status:
            self._status[service] = _NOT_SERVING
        self._wake_watchers()

    def _wake_watchers(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
