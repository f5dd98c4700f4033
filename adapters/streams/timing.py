"""The timings and limits of one stream provider's connections (constructor parameters, so
tests use short ones instead of waiting)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.reconnect_backoff import DOWN_AFTER_FAILURES, ReconnectBackoff


@dataclass(frozen=True, slots=True)
class StreamTiming:
    """``liveness_timeout``: a connection on which no frame of any kind (pings and heartbeats
    included) arrives for this long is replaced. ``max_lifetime``: connections are rotated
    after this long (before the exchange's own cut). ``ack_timeout``: a control message
    unanswered for this long fails the connection. ``connect_timeout``: for the handshake.
    ``control_limit`` messages (pongs included) per ``control_window`` seconds per
    connection; ``attempt_limit`` connection attempts per ``attempt_window`` seconds for the
    whole provider. ``batch``: topics per subscribe message. ``down_after``: failed attempts
    in a row before the provider reports ``down``."""

    liveness_timeout: float
    max_lifetime: float = 23.5 * 3600
    ack_timeout: float = 10.0
    connect_timeout: float = 10.0
    close_timeout: float = 1.0
    control_limit: int = 5
    control_window: float = 1.1  # a margin over the exchange's second, for network jitter
    attempt_limit: int = 60
    attempt_window: float = 300.0
    batch: int = 200
    down_after: int = DOWN_AFTER_FAILURES
    backoff: ReconnectBackoff = field(default_factory=ReconnectBackoff)


#: Binance: pings every 20 s (a dead connection shows within two of them); 300 connection
#: attempts per 5 minutes per IP (we keep to a third); the cut at 24 hours.
BINANCE_TIMING = StreamTiming(liveness_timeout=45.0, attempt_limit=100, attempt_window=300.0)
#: Kraken: a heartbeat every second when nothing else flows (reconnect after ~5 s of
#: nothing); Cloudflare allows about 150 attempts per 10 minutes (we keep to a third).
KRAKEN_TIMING = StreamTiming(liveness_timeout=5.0, attempt_limit=50, attempt_window=600.0)
