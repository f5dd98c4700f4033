"""The object graph under the use cases, built as entrypoints/container.py builds it, with fakes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adapters.cache.memory import MemoryCache
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from tests.fakes import FakeClock

T0 = 1_700_000_000.0
STALE_TTL = 3600.0
SUPPORTED_SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOT", "LINK", "LTC", "BCH", "MATIC", "AVAX", "XLM", "TRX")
SUPPORTED_INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d", "1w")


@dataclass
class Infrastructure:
    clock: FakeClock
    cache: MemoryCache
    calls: ProviderCalls
    read_through: ReadThrough


def infrastructure(names: Iterable[str], disabled: Iterable[str] = ()) -> Infrastructure:
    """A fake clock, memory cache, provider calls (each provider registered) and read-through."""
    clock = FakeClock(T0)
    cache = MemoryCache(clock)
    calls = ProviderCalls(clock, request_timeout=5.0)
    off = set(disabled)
    for name in names:
        calls.register(name, enabled=name not in off)
    return Infrastructure(clock, cache, calls, ReadThrough(cache, clock, STALE_TTL))
