"""Prometheus metrics (prometheus-client): the ``Telemetry`` port plus what the edges record.

Every metric lives in this object's own registry, so several services in one process (tests)
never collide. With ``PROMETHEUS_MULTIPROC_DIR`` set (``serve --workers N`` sets it), the
values go to files shared by the workers and ``exposition`` merges them, so a scrape answered
by any worker reports the whole service.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.process_collector import ProcessCollector

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CIRCUIT_STATES = ("closed", "half_open", "open")

# Cached answers take well under a millisecond; upstream calls up to REQUEST_TIMEOUT.
_REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# From the exchange's event time to the offer: the exchange's own delay plus ours.
_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def multiprocess_dir() -> str | None:
    """The directory the workers share their values through, when there is one."""
    return os.environ.get(MULTIPROCESS_ENV) or None


class PrometheusMetrics:
    """Counters and histograms of requests, upstream calls, circuits, cache and limits."""

    content_type = CONTENT_TYPE  # of exposition(): Prometheus' text format

    def __init__(self, namespace: str = "cde") -> None:
        self._registry = CollectorRegistry(auto_describe=True)
        self._shared = multiprocess_dir()
        if self._shared is None:
            ProcessCollector(registry=self._registry)  # resident memory, CPU, open fds
        r = self._registry
        ns = namespace
        self._requests = Counter(
            "http_requests", "REST requests answered, by route, method and status",
            ["route", "method", "status"], namespace=ns, registry=r,
        )  # fmt: skip
        self._request_seconds = Histogram(
            "http_request_duration_seconds", "REST request latency, by route and method",
            ["route", "method"], namespace=ns, registry=r, buckets=_REQUEST_BUCKETS,
        )  # fmt: skip
        self._grpc = Counter(
            "grpc_requests", "gRPC calls answered, by method and status code",
            ["method", "code"], namespace=ns, registry=r,
        )  # fmt: skip
        self._grpc_seconds = Histogram(
            "grpc_request_duration_seconds", "gRPC unary call latency, by method",
            ["method"], namespace=ns, registry=r, buckets=_REQUEST_BUCKETS,
        )  # fmt: skip
        self._upstream = Counter(
            "upstream_calls", "Provider calls by outcome (refused ones never reached the provider)",
            ["provider", "outcome"], namespace=ns, registry=r,
        )  # fmt: skip
        self._upstream_seconds = Histogram(
            "upstream_call_duration_seconds", "Latency of provider calls that were made",
            ["provider"], namespace=ns, registry=r, buckets=_UPSTREAM_BUCKETS,
        )  # fmt: skip
        self._circuit = Gauge(
            "circuit_state", "1 for the state each provider's circuit is in (as the answering worker sees it)",
            ["provider", "state"], namespace=ns, registry=r, multiprocess_mode="livemostrecent",
        )  # fmt: skip
        self._lookups = Counter(
            "cache_lookups", "Cache lookups by kind of data and result (hit: fresh; miss: absent or expired)",
            ["kind", "result"], namespace=ns, registry=r,
        )  # fmt: skip
        self._stale = Counter(
            "cache_stale_served", "Answers served stale because every provider failed",
            ["kind"], namespace=ns, registry=r,
        )  # fmt: skip
        self._joins = Counter(
            "single_flight_joins", "Cache misses that joined a fetch already under way",
            ["kind"], namespace=ns, registry=r,
        )  # fmt: skip
        self._limited = Counter(
            "rate_limited_requests", "Requests refused by the per-client limit, by endpoint group",
            ["group"], namespace=ns, registry=r,
        )  # fmt: skip
        self._refused = Counter(
            "http_connections_refused", "REST connections closed at once, unanswered, by reason "
            "(client_cap: the client holds MAX_CONNECTIONS_PER_CLIENT; reserve_full: no descriptors left)",
            ["reason"], namespace=ns, registry=r,
        )  # fmt: skip
        self._subscribers = Gauge(
            "stream_subscribers", "Live subscribers (WebSocket, SSE and gRPC stream inboxes) open now",
            namespace=ns, registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self._dropped = Counter(
            "stream_slow_subscribers_dropped", "Live subscribers dropped for falling behind (STREAM_QUEUE_LIMIT)",
            namespace=ns, registry=r,
        )  # fmt: skip
        self._lag = Histogram(
            "stream_fanout_lag_seconds", "From the exchange's event time to the update offered to its subscribers",
            ["channel"], namespace=ns, registry=r, buckets=_LAG_BUCKETS,
        )  # fmt: skip
        self._delivered = Counter(
            "stream_updates_delivered", "Live updates taken by subscribers, by channel (candles, prices)",
            ["channel"], namespace=ns, registry=r,
        )  # fmt: skip
        self._stream_messages = Counter(
            "stream_upstream_messages", "Events the exchanges' streams delivered to the replica holding them, "
            "by provider and channel (candles, ticker)",
            ["provider", "channel"], namespace=ns, registry=r,
        )  # fmt: skip
        self._stream_lost = Counter(
            "stream_upstream_disconnects", "Upstream stream connections dropped or refused, by provider "
            "(each is followed by a reconnect attempt with backoff)",
            ["provider"], namespace=ns, registry=r,
        )  # fmt: skip
        self._stream_message_children: dict[tuple[str, str], Counter] = {}
        # Children by label values: labels() takes a lock and builds a key on every call.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._lookup_children: dict[tuple[str, bool], Counter] = {}
        self._delivered_children: dict[str, Counter] = {}

    # -- the Telemetry port ---------------------------------------------------------------

    def cache_lookup(self, kind: str, hit: bool) -> None:
        """Count a cache lookup."""
        child = self._lookup_children.get((kind, hit))
        if child is None:
            child = self._lookups.labels(kind, "hit" if hit else "miss")
            self._lookup_children[(kind, hit)] = child
        child.inc()

    def stale_served(self, kind: str) -> None:
        """Count a stale answer."""
        self._stale.labels(kind).inc()

    def single_flight_joined(self, kind: str) -> None:
        """Count a miss that joined a fetch under way."""
        self._joins.labels(kind).inc()

    def upstream_call(self, provider: str, outcome: str, seconds: float | None) -> None:
        """Count a provider call and, when it was made, its latency."""
        self._upstream.labels(provider, outcome).inc()
        if seconds is not None:
            self._upstream_seconds.labels(provider).observe(seconds)

    def rate_limited(self, group: str) -> None:
        """Count a request refused by a client limit."""
        self._limited.labels(group).inc()

    def stream_subscribers(self, count: int) -> None:
        """Record how many live subscribers are open."""
        self._subscribers.set(count)

    def slow_subscriber_dropped(self) -> None:
        """Count a dropped slow subscriber."""
        self._dropped.inc()

    def upstream_stream_message(self, provider: str, channel: str) -> None:
        """Count one event of an upstream stream."""
        child = self._stream_message_children.get((provider, channel))
        if child is None:
            child = self._stream_message_children[(provider, channel)] = self._stream_messages.labels(provider, channel)
        child.inc()

    def upstream_stream_lost(self, provider: str) -> None:
        """Count a dropped or refused upstream stream connection."""
        self._stream_lost.labels(provider).inc()

    def fanned_out(self, channel: str, lag: float | None) -> None:
        """Record the fan-out lag of one update (a clock ahead of the exchange's counts as 0)."""
        if lag is not None:
            self._lag.labels(channel).observe(max(0.0, lag))

    def update_delivered(self, channel: str) -> None:
        """Count one update taken by a subscriber (called once per subscriber and update)."""
        child = self._delivered_children.get(channel)
        if child is None:
            child = self._delivered_children[channel] = self._delivered.labels(channel)
        child.inc()

    # -- what the edges record ------------------------------------------------------------

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count an answered REST request and its latency."""
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self._requests.labels(route, method, str(status)),
                        self._request_seconds.labels(route, method))  # fmt: skip
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def connection_refused(self, reason: str) -> None:
        """Count a REST connection closed at once."""
        self._refused.labels(reason).inc()

    def grpc_call(self, method: str, code: str, seconds: float | None) -> None:
        """Count an answered gRPC call and, for a unary one, its latency (None for streams)."""
        self._grpc.labels(method, code).inc()
        if seconds is not None:
            self._grpc_seconds.labels(method).observe(seconds)

    def circuits(self, states: Iterable[tuple[str, str]]) -> None:
        """Record each provider's circuit state (read just before a scrape)."""
        for provider, current in states:
            for state in CIRCUIT_STATES:
                self._circuit.labels(provider, state).set(1 if state == current else 0)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format: this process's, or every worker's."""
        if self._shared is None:
            return generate_latest(self._registry)
        merged = CollectorRegistry()
        _multiprocess.MultiProcessCollector(merged, path=self._shared)
        return generate_latest(merged)


def mark_process_dead(pid: int) -> None:
    """Drop a finished worker's live gauges from the shared directory."""
    if multiprocess_dir() is not None:
        _multiprocess.mark_process_dead(pid)
