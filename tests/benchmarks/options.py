"""What every benchmark is given: how long and how hard to measure, and the market it asks for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from entrypoints.settings import Settings
from tests.benchmarks.lab import Lab
from tests.benchmarks.report import Report

PRICES = "/api/prices?symbols=BTC,ETH,SOL"
OHLCV = "/api/ohlcv?symbol=BTC&interval=1h&limit=200"
ENDPOINTS = {"prices": PRICES, "ohlcv": OHLCV}
# The service's own defaults: the memory target is "14 symbols x 7 intervals" of them.
SYMBOLS = tuple(Settings.model_fields["supported_symbols"].default)
INTERVALS = tuple(Settings.model_fields["supported_intervals"].default)
#: The 20 markets the live benchmarks watch: the candles of 10 symbols in 1m and 5m.
LIVE_MARKETS = tuple((symbol, interval) for symbol in SYMBOLS[:10] for interval in ("1m", "5m"))


@dataclass(frozen=True)
class Options:
    """How long and how hard to measure."""

    duration: float
    warmup: float
    connections: int
    grpc_concurrency: int
    grpc_clients: int
    burst: int
    request_timeout: float
    failover_keys: int
    workers: int
    memory_symbols: int
    live_clients: tuple[int, ...] = (1, 100, 1000)  # WebSocket clients of each live_lag measurement
    live_idle_clients: int = 1000  # live_memory
    live_upstream_clients: int = 1000  # live_upstream, over both replicas
    live_load_processes: int = 2  # client processes (at most one per client)
    live_compare_code: str | None = None  # live_lag also measures a service run from this checkout
    history_hours: int = 8760  # 1h candles of the range served from the store (a year)
    history_minutes: int = 525_600  # 1m candles of each export (a year)
    history_requests: int = 30  # timed range requests per store


Benchmark = Callable[[Lab, Options, Report], None]
