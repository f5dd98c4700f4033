"""Helpers of the stream adapter integration tests: a sink that records, a simulator clock
the test moves, short timings, and a way to run an adapter for the length of a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from adapters.streams.timing import StreamTiming
from domain.live import CandleEvent, StreamEvent, StreamKey, TickerEvent
from domain.ports import MarketStream
from domain.reconnect_backoff import ReconnectBackoff

#: Short timings: tests wait tenths of seconds, not the exchanges' minutes.
FAST = StreamTiming(
    liveness_timeout=0.6,
    ack_timeout=1.0,
    connect_timeout=1.0,
    close_timeout=0.2,
    attempt_limit=50,
    attempt_window=60.0,
    backoff=ReconnectBackoff(base=0.05, cap=0.2),
)


def fast(**changes: object) -> StreamTiming:
    """``FAST`` with some timings changed."""
    return replace(FAST, **changes)  # type: ignore[arg-type]


class MovingClock:
    """The simulator's clock: stands still until the test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingSink:
    """Implements ``StreamSink`` by recording every call, in order."""

    calls: list[tuple[str, object]] = field(default_factory=list)

    def live(self, provider: str, keys: frozenset[StreamKey]) -> None:
        self.calls.append(("live", keys))

    def event(self, event: StreamEvent) -> None:
        self.calls.append(("event", event))

    def lost(self, provider: str, reason: str, failures: int) -> None:
        self.calls.append(("lost", (reason, failures)))

    @property
    def lives(self) -> list[frozenset[StreamKey]]:
        return [value for kind, value in self.calls if kind == "live"]  # type: ignore[misc]

    @property
    def losses(self) -> list[tuple[str, int]]:
        return [value for kind, value in self.calls if kind == "lost"]  # type: ignore[misc]

    @property
    def events(self) -> list[StreamEvent]:
        return [value for kind, value in self.calls if kind == "event"]  # type: ignore[misc]

    def candles(self, key: StreamKey) -> list[CandleEvent]:
        return [e for e in self.events if isinstance(e, CandleEvent) and e.key == key]

    def tickers(self, key: StreamKey) -> list[TickerEvent]:
        return [e for e in self.events if isinstance(e, TickerEvent) and e.key == key]

    def live_keys(self) -> frozenset[StreamKey]:
        """Every key reported live so far."""
        return frozenset().union(*self.lives) if self.lives else frozenset()


async def eventually(predicate: Callable[[], object], timeout: float = 3.0) -> None:
    """Wait until ``predicate()`` is truthy (polled every 10 ms), or fail."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(stream: MarketStream, sink: RecordingSink) -> AsyncIterator[asyncio.Task[None]]:
    """``stream.run(sink)`` for the body of the ``async with``; cancelled after it."""
    task = asyncio.create_task(stream.run(sink))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()  # run never ends on its own, never raises


def exact(text: str | float) -> float:
    """A wire number parsed independently of the adapters."""
    return float(Decimal(str(text)))
