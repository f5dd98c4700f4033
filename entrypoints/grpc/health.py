"""Keeps the standard ``grpc.health.v1.Health`` service in step with the GetHealth use case."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from grpc_health.v1 import health_pb2

from application.get_health import GetHealth
from entrypoints.grpc.health_service import HealthService

DEFAULT_REFRESH_SECONDS = 5.0
log = structlog.get_logger("grpc.health")


def serving_status(service_status: str) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    """SERVING unless the service cannot serve any data (the case REST answers 503)."""
    if service_status == "unhealthy":
        return health_pb2.HealthCheckResponse.NOT_SERVING
    return health_pb2.HealthCheckResponse.SERVING


class HealthPublisher:
    """Publishes GetHealth's verdict for ``services`` and refreshes it in the background.

    GetHealth never calls a provider, so refreshing every few seconds costs nothing upstream.
    """

    def __init__(
        self,
        get_health: GetHealth,
        services: Sequence[str],
        every: float = DEFAULT_REFRESH_SECONDS,
    ) -> None:
        self.servicer = HealthService()
        self._get_health = get_health
        self._services = tuple(services)
        self._every = every
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Publish the current verdict for every service ("" is the whole server)."""
        status = serving_status((await self._get_health.execute()).status)
        for service in self._services:
            await self.servicer.set(service, status)

    async def start(self) -> None:
        """Publish once now (so the first check is right), then keep refreshing."""
        await self.refresh()
        self._task = asyncio.create_task(self._keep_fresh(), name="grpc-health-refresh")

    async def stop(self) -> None:
        """Stop refreshing and answer NOT_SERVING from now on: the server is going away
        (Watch streams are told, then end)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled ourselves, not just our refresher
        await self.servicer.enter_graceful_shutdown()

    async def _keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.refresh()
            except Exception:
                log.exception("health refresh failed")
