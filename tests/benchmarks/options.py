"""What every benchmark is given: how long and how hard to measure, and the market it asks for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.benchmarks.lab import Lab
from tests.benchmarks.report import Report

PRICES = "/api/prices?symbols=BTC,ETH,SOL"
OHLCV = "/api/ohlcv?symbol=BTC&interval=1h&limit=200"
ENDPOINTS = {"prices": PRICES, "ohlcv": OHLCV}
SYMBOLS = (
    "BTC",
    "ETH",
    "SOL",
    "XRP",
    "BNB",
    "ADA",
    "DOT",
    "LINK",
    "LTC",
    "BCH",
    "MATIC",
    "AVAX",
    "XLM",
    "TRX",
)
INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d", "1w")


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
