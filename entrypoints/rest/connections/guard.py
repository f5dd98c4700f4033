"""What every connection of one REST server shares: the registry, the timeouts, and how
refusals are logged (rate limited) and counted."""

from __future__ import annotations

from dataclasses import dataclass

from domain.client_input import clipped
from entrypoints.edge_metrics import EdgeMetrics
from entrypoints.rest.connections.flood_log import FloodLog
from entrypoints.rest.connections.parser_errors import ParserAnswer
from entrypoints.rest.connections.registry import Admission, ConnectionRegistry

# Metric labels of the answers written outside the app (its middleware counts the rest).
MALFORMED_ROUTE = "malformed"
RESERVE_ROUTE = "reserve"


@dataclass(frozen=True, slots=True)
class ConnectionGuard:
    """The per-server policy the connection protocol applies.

    ``header_timeout``: seconds a request head may take (from the connection's start for the
    first request, from its first byte for later ones). ``flood``: where warnings go.
    ``metrics``: refused connections and the answers written outside the app.
    """

    registry: ConnectionRegistry
    header_timeout: float
    flood: FloodLog
    metrics: EdgeMetrics | None = None

    def admit(self, client: str) -> Admission:
        """Admit a new connection of ``client``; log and count a refusal or entering the reserve."""
        registry = self.registry
        was_in_reserve = registry.in_reserve
        admission = registry.admit(client)
        if admission.refused:
            if self.metrics is not None:
                self.metrics.connection_refused(admission.value)
            self.flood.warning(f"refused:{admission.value}", "connection refused", reason=admission.value,
                               client=client, held=registry.held_by(client), open=registry.open)  # fmt: skip
        elif admission is Admission.RESERVE_ONLY and not was_in_reserve:
            limits = registry.limits
            self.flood.warning("reserve_reached", "connection reserve reached: new connections answer only "
                               "/api/health and /metrics", open=registry.open, served=limits.served,
                               with_reserve=limits.with_reserve)  # fmt: skip
        return admission

    def release(self, client: str) -> None:
        """An admitted connection of ``client`` closed."""
        self.registry.release(client)

    def malformed(self, answer: ParserAnswer, client: str, request_id: str, reason: str) -> None:
        """A request the HTTP parser refused, answered with ``answer``."""
        if self.metrics is not None:
            self.metrics.request(MALFORMED_ROUTE, "other", answer.status, 0.0)
        self.flood.warning(f"malformed:{answer.code}", "malformed request refused", status=answer.status,
                           code=answer.code, reason=reason, client=client, request_id=request_id)  # fmt: skip

    def head_timed_out(self, client: str, request_id: str | None) -> None:
        """A connection closed for not completing a request head in time (answered 408 when
        ``request_id`` is set, i.e. some of a head had arrived)."""
        if request_id is not None and self.metrics is not None:
            self.metrics.request(MALFORMED_ROUTE, "other", 408, self.header_timeout)
        self.flood.warning("header_timeout", "request head timed out", client=client,
                           timeout=self.header_timeout, answered=request_id is not None,
                           request_id=request_id)  # fmt: skip

    def reserve_refused(self, client: str, method: str, path: str, request_id: str) -> None:
        """A request on a reserve connection for something else than health or metrics (503)."""
        if self.metrics is not None:
            self.metrics.request(RESERVE_ROUTE, "other", 503, 0.0)
        self.flood.warning("reserve_refused", "request refused: only /api/health and /metrics are served "
                           "from the connection reserve", client=client, method=method[:16],
                           path=clipped(path), request_id=request_id)  # fmt: skip
