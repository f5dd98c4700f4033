"""Fakes for the live-stream side: a MarketStream driven by the test, and an OHLCV provider
that answers from a candle history the test writes (the exchange's truth). No mocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.candle import Candle, CandleSeries
from domain.errors import ProviderError
from domain.interval import Interval
from domain.live import CandleEvent, StreamKey, StreamState, StreamStatus, TickerEvent
from domain.ports import StreamSink
from domain.symbol import Symbol

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
M1 = Interval("1m")
#: 2023-11-14 22:12:00 UTC, on a minute (and 5-minute) boundary.
T0_MS = 1_699_999_920_000
MINUTE = 60_000


def candle(index: int, close: float = 100.0, volume: float = 1.0, step: int = MINUTE) -> Candle:
    """The candle ``index`` intervals after T0_MS, with made-up but exact test values."""
    return Candle(T0_MS + index * step, close - 1, close + 2, close - 2, close, volume)


def candle_event(index: int, closed: bool, source: str = "binance", close: float = 100.0,
                 volume: float = 1.0, symbol: Symbol = BTC) -> CandleEvent:  # fmt: skip
    """A 1m candle event of ``symbol`` for candle ``index``."""
    return CandleEvent(symbol, M1, candle(index, close, volume), closed, T0_MS + index * MINUTE + 1, source)


def ticker_event(last: float, source: str = "binance", symbol: Symbol = BTC) -> TickerEvent:
    """A ticker event of ``symbol``."""
    return TickerEvent(symbol, last, last - 1, last + 1, last - 2, 10.0, None, T0_MS, source)


@dataclass
class FakeMarketStream:
    """Implements ``MarketStream``: records what it is told to hold, and lets the test play
    the exchange through the sink it was given (``go_live``, ``send``, ``drop``)."""

    name: str
    serves: Callable[[StreamKey], bool] = lambda key: True
    state: StreamState = "connected"
    enabled: bool = True
    wanted: frozenset[StreamKey] = frozenset()
    wants: list[frozenset[StreamKey]] = field(default_factory=list)
    sink: StreamSink | None = None
    runs: int = 0
    reconnects: int = 0

    def supports(self, key: StreamKey) -> bool:
        return self.serves(key)

    def want(self, keys: frozenset[StreamKey]) -> None:
        self.wanted = keys
        self.wants.append(keys)

    async def run(self, sink: StreamSink) -> None:
        self.sink = sink
        self.runs += 1
        try:
            await asyncio.Event().wait()
        finally:
            self.sink = None

    def status(self) -> StreamStatus:
        return StreamStatus(self.name, self.state, len(self.wanted), None, self.reconnects)

    @property
    def running(self) -> bool:
        """Whether the supervisor runs this stream now."""
        return self.sink is not None

    def go_live(self, keys: frozenset[StreamKey] | None = None) -> None:
        """Subscriptions acknowledged: ``keys`` (default: everything wanted) stream from now."""
        assert self.sink is not None, f"{self.name} is not running"
        self.state = "connected"
        self.sink.live(self.name, self.wanted if keys is None else keys)

    def send(self, *events: CandleEvent | TickerEvent) -> None:
        """Frames from the exchange."""
        assert self.sink is not None, f"{self.name} is not running"
        for event in events:
            self.sink.event(event)

    def drop(self, failures: int = 0, state: StreamState = "reconnecting") -> None:
        """The connection is gone (``failures`` attempts in a row failed to bring it back)."""
        assert self.sink is not None, f"{self.name} is not running"
        self.state = state
        self.reconnects += 1
        self.sink.lost(self.name, "dropped by the test", failures)


@dataclass
class FakeCandleHistory:
    """Implements ``OhlcvProvider``: answers the newest ``limit`` candles of ``candles`` (the
    test writes the exchange's history there), or raises ``error``; records every call."""

    name: str
    candles: list[Candle] = field(default_factory=list)
    error: ProviderError | None = None
    enabled: bool = True
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    delay: float = 0.0

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        return True

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        self.calls.append((symbol.pair, interval.name, limit))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return CandleSeries(symbol, interval, tuple(self.candles[-limit:]), self.name)


class RecordingBus:
    """Implements ``EventBus`` in process (``adapters.live.memory_bus``) and records every
    message published, in order, the moment it is published."""

    def __init__(self) -> None:
        from adapters.live.memory_bus import MemoryEventBus

        self._bus = MemoryEventBus()
        self.published: list[object] = []

    async def publish(self, message: CandleEvent | TickerEvent | StreamStatus) -> None:
        self.published.append(message)
        await self._bus.publish(message)

    def listen(self):  # type: ignore[no-untyped-def]
        return self._bus.listen()

    def candles(self) -> list[tuple[int, float, bool, str]]:
        """The candle events published: (open time, close, closed, source)."""
        return [
            (m.candle.timestamp, m.candle.close, m.closed, m.source)
            for m in self.published
            if isinstance(m, CandleEvent)
        ]


@dataclass
class FakeLease:
    """Implements ``StreamLease``: held as the test says, or failing with ``error``."""

    held: bool = True
    error: Exception | None = None
    holds: int = 0
    releases: int = 0

    async def hold(self, ttl: float) -> bool:
        self.holds += 1
        if self.error is not None:
            raise self.error
        return self.held

    async def release(self) -> None:
        self.releases += 1
        self.held = False
