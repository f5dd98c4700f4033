"""Fixtures for the gRPC end-to-end tests: a real grpc.aio server and client on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from entrypoints.container import Container, UseCases, build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from entrypoints.settings import Settings
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.conftest import settings_for

# Short enough that shutting a test server down never waits long for a stuck call.
TEST_GRACE = 1.0


@dataclass
class GrpcService:
    """A started gRPC server wired to the simulator, and a client channel to it."""

    settings: Settings
    container: Container
    use_cases: UseCases
    server: GrpcServer
    channel: grpc.aio.Channel
    stub: pb_grpc.MarketDataStub

    @property
    def target(self) -> str:
        """``127.0.0.1:port`` of the server."""
        return f"127.0.0.1:{self.server.port}"


MakeGrpc = Callable[..., Awaitable[GrpcService]]


@pytest.fixture
async def make_grpc(simulator: UpstreamSimulator) -> AsyncIterator[MakeGrpc]:
    """Start gRPC servers (settings overrides as keywords, plus the health refresh period);
    all are stopped after the test."""
    started: list[GrpcService] = []

    async def make(health_every: float = 5.0, **overrides: Any) -> GrpcService:
        values = {"grpc_port": 0, "shutdown_grace": TEST_GRACE, **overrides}
        settings = settings_for(simulator, **values)
        container = build_container(settings)
        use_cases = await start(container)
        server = GrpcServer(settings, use_cases, health_every=health_every)
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        service = GrpcService(
            settings, container, use_cases, server, channel, pb_grpc.MarketDataStub(channel)
        )
        started.append(service)
        return service

    yield make
    for service in reversed(started):
        await service.channel.close()
        await service.server.stop()
        await stop(service.container)


@pytest.fixture
async def grpc_service(make_grpc: MakeGrpc) -> GrpcService:
    """The gRPC service with default settings against the simulator."""
    return await make_grpc()
