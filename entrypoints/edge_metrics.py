"""What the REST and gRPC edges record in, and expose from, the service's metrics.

The edges see metrics only through this protocol, handed to them by the container; the
Prometheus adapter (``adapters.metrics.PrometheusMetrics``) implements it next to the
domain's ``Telemetry`` port.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class EdgeMetrics(Protocol):
    """Request counts and latencies per transport, and the scrape answer."""

    @property
    def content_type(self) -> str:
        """The media type of :meth:`exposition`'s bytes."""
        ...

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count an answered REST request (``route``: the route's pattern) and its latency."""
        ...

    def connection_refused(self, reason: str) -> None:
        """Count a REST connection closed at once (``client_cap``: its client holds
        MAX_CONNECTIONS_PER_CLIENT already; ``reserve_full``: no descriptors left to serve it)."""
        ...

    def grpc_call(self, method: str, code: str, seconds: float | None) -> None:
        """Count an answered gRPC call and, for a unary one, its latency (None for streams)."""
        ...

    def circuits(self, states: Iterable[tuple[str, str]]) -> None:
        """Record each provider's circuit state, as ``(provider, state)`` (before a scrape)."""
        ...

    def exposition(self) -> bytes:
        """Every metric, in the format named by :attr:`content_type`."""
        ...
