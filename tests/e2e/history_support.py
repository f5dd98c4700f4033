"""A service whose history comes from fake exchanges (tests/history_fakes.py), for the REST and
gRPC history suites (no tests live here).

Everything else is real: the container, the SQLite candle store (a file in the test's tmp
dir), the use cases, the REST app or gRPC server on a loopback socket. Only the providers
``CandleHistory`` pages over are replaced, by recording fakes, and the service's clock by a
``FakeClock`` they share, so every expected candle, ``next`` and gap is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dependency_injector import providers

from application.history.candle_history import CandleHistory
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings
from simulator import UpstreamSimulator
from tests.conftest import settings_for
from tests.e2e.test_rest_support import GENEROUS_BUDGETS
from tests.fakes import FakeClock
from tests.history_fakes import FakeHistoryProvider, candle_at

HOUR = 3_600_000
MINUTE = 60_000
#: The service's (fake) time: 2026-05-28T20:26:40.5Z.
NOW = 1_780_000_000.5
NOW_MS = int(NOW * 1000)
#: The hour in progress at NOW, and an hour-aligned start 500 hours before it.
HOUR_IN_PROGRESS = NOW_MS - NOW_MS % HOUR
BASE = HOUR_IN_PROGRESS - 500 * HOUR


@dataclass
class HistoryWorld:
    """A configured container and the fake exchanges behind its history."""

    settings: Settings
    container: Container
    clock: FakeClock
    binance: FakeHistoryProvider
    kraken: FakeHistoryProvider

    def range_calls(self) -> int:
        """Range calls both fakes received."""
        return len(self.binance.range_calls) + len(self.kraken.range_calls)

    def window_calls(self) -> int:
        """Newest-candles calls both fakes received."""
        return self.binance.window_calls + self.kraken.window_calls


def history_world(simulator: UpstreamSimulator, tmp_path: Path, **overrides: Any) -> HistoryWorld:
    """A container (not started) whose ``CandleHistory`` pages over two fake exchanges: a
    Binance answering 1000 candles a call and a Kraken reaching its last 720 bars."""
    values = {**GENEROUS_BUDGETS, "candle_store_path": str(tmp_path / "candles.sqlite3"), **overrides}
    settings = settings_for(simulator, **values)
    container = build_container(settings)
    clock = FakeClock(NOW)
    container.shared.clock.override(clock)
    binance = FakeHistoryProvider("binance", clock)
    kraken = FakeHistoryProvider("kraken", clock, page_size=720, reach_bars=720)
    container.application.candle_history.override(
        providers.Singleton(
            CandleHistory,
            providers=[binance, kraken],
            calls=container.upstreams.calls,
            store=container.shared.candle_store,
            clock=clock,
        )
    )
    return HistoryWorld(settings, container, clock, binance, kraken)


def hours(start: int, count: int) -> list[int]:
    """``count`` hourly open times from ``start``."""
    return [start + i * HOUR for i in range(count)]


def candle_json(timestamp: int, provider: str = "binance") -> dict[str, Any]:
    """The candle the fake ``provider`` has at ``timestamp``, as the API renders it."""
    c = candle_at(timestamp, provider)
    return {"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
            "volume": c.volume}  # fmt: skip


def csv_row(timestamp: int, provider: str = "binance") -> str:
    """The CSV row of that candle, written independently of the service's encoder."""
    c = candle_at(timestamp, provider)
    return ",".join(str(v) for v in (c.timestamp, c.open, c.high, c.low, c.close, c.volume))
