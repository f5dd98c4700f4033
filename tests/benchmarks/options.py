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


Benchmark = Callable[[Lab, Options, Report], None]
