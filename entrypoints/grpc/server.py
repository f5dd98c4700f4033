"""The grpc.aio server: MarketData, the standard health service and reflection on one port."""

from __future__ import annotations

from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from entrypoints.container import UseCases
from entrypoints.grpc.health import DEFAULT_REFRESH_SECONDS, HealthPublisher
from entrypoints.grpc.sandbox import SandboxMarkInterceptor
from entrypoints.grpc.servicer import SERVICE_NAME, MarketDataServicer
from entrypoints.settings import Settings
from entrypoints.shutdown import ShutdownCoordinator
from protos.cryptodata.v1 import market_data_pb2 as pb

HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
log = structlog.get_logger("grpc")


def serialize(answer: Any) -> bytes:
    """The response serializer of every MarketData method: messages, or answers already encoded
    (the servicer's answer memo hands out bytes)."""
    return answer if isinstance(answer, bytes) else answer.SerializeToString()


def add_market_data(servicer: MarketDataServicer, server: grpc.aio.Server) -> None:
    """Register ``servicer`` like the generated ``add_MarketDataServicer_to_server``, with a
    serializer that also accepts the already encoded answers."""
    service = pb.DESCRIPTOR.services_by_name["MarketData"]
    handlers = {}
    for method in service.methods:
        request = getattr(pb, method.input_type.name)
        make = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = make(
            getattr(servicer, method.name),
            request_deserializer=request.FromString,
            response_serializer=serialize,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)


def bind_address(host: str, port: int) -> str:
    """``host:port``, with IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class GrpcServer:
    """Owns one ``grpc.aio.Server``; the use cases (and their container) belong to the caller.

    ``shutdown``: the process's (``entrypoints.serve`` shares one with REST); without one the
    server has its own, begun by :meth:`stop`.
    """

    def __init__(
        self,
        settings: Settings,
        use_cases: UseCases,
        health_every: float = DEFAULT_REFRESH_SECONDS,
        *,
        reuse_port: bool = False,
        shutdown: ShutdownCoordinator | None = None,
    ) -> None:
        self._settings = settings
        self.shutdown = shutdown or ShutdownCoordinator(settings.shutdown_grace)
        # SO_REUSEPORT (gRPC's default on Linux) would let a second process bind the same
        # port silently and steal half the connections; a busy port must fail loudly, unless
        # sharing it is the point (serve --workers N).
        # In sandbox mode the health and reflection calls are marked by an interceptor; MarketData's by its edge.
        interceptors = [SandboxMarkInterceptor(SERVICE_NAME)] if settings.sandbox else None
        self._server = grpc.aio.server(
            options=[("grpc.so_reuseport", 1 if reuse_port else 0)], interceptors=interceptors
        )
        self.market_data = MarketDataServicer(
            use_cases,
            settings.grpc_stream_interval,
            settings.grpc_trust_proxy,
            shutdown=self.shutdown,
            sandbox=settings.sandbox,
            max_streams=settings.grpc_max_streams_per_client,
            supported_symbols=settings.supported_symbols,
        )
        self.health = HealthPublisher(use_cases.get_health, ("", SERVICE_NAME), health_every)
        add_market_data(self.market_data, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, self._server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )
        self.port: int | None = None
        self._stopped = False

    async def start(self) -> int:
        """Listen on HOST:GRPC_PORT (0: a free port) and return the bound port."""
        address = bind_address(self._settings.host, self._settings.grpc_port)
        port = self._server.add_insecure_port(address)
        if port == 0:  # older grpcio reports a failed bind this way instead of raising
            raise RuntimeError(f"gRPC could not listen on {address}")
        await self.health.start()
        await self._server.start()
        self.port = port
        log.info("grpc listening", host=self._settings.host, port=port)
        return port

    async def stop(self) -> None:
        """Graceful stop on the shutdown's timeline (``entrypoints.shutdown``): streams end at
        once with OK (Health.Watch after NOT_SERVING), unary calls run until the cut, which
        answers those still running UNAVAILABLE; at the end of the grace grpc cancels
        whatever is left. Stopping twice is harmless."""
        if self._stopped:
            return
        self._stopped = True
        self.shutdown.begin()  # draining: StreamPrices ends (its servicer watches the event)
        try:
            await self.health.stop()
        finally:  # whatever happened to the health task, the server itself must stop
            await self._server.stop(self.shutdown.seconds_until(self.shutdown.timeline.servers_by))
            log.info("grpc stopped")
