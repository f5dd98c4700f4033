"""Fakes and a small world for the live fan-out tests: an exchange whose candles follow the fake
clock, an in-memory bus, a recording stream interest, a settable stream report."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from application.get_ohlcv import GetOhlcv
from application.get_prices import GetPrices
from application.live.fanout import LiveFanout
from application.live.live_markets import LiveMarkets
from application.live.state import LiveState
from domain.candle import Candle, CandleSeries
from domain.errors import ProviderError
from domain.interval import Interval, IntervalParser
from domain.live import CandleEvent, StreamKey, StreamStatus, TickerEvent
from domain.ports import BusMessage
from domain.quote import Quote
from domain.symbol import Symbol, SymbolParser
from tests.fakes import FakeClock
from tests.unit.world import SUPPORTED_INTERVALS, SUPPORTED_SYMBOLS, Infrastructure, infrastructure

MINUTE_MS = 60_000
#: A wall clock 30 s into the minute that opened at OPEN_MS.
OPEN_MS = 1_700_000_040_000
NOW = OPEN_MS / 1000 + 30
BTC = Symbol("BTC")
ONE_MINUTE = Interval("1m")
BTC_1M = StreamKey.candles(BTC, ONE_MINUTE)


def final(ts: int, step: int = MINUTE_MS) -> Candle:
    """The final values of the candle that opened at ``ts``."""
    k = (ts // step) % 1000
    return Candle(ts, 100.0 + k, 110.0 + k, 90.0 + k, 105.0 + k, 10.0)


def forming(ts: int, step: int = MINUTE_MS) -> Candle:
    """The candle that opened at ``ts`` while it forms (close and volume not final yet)."""
    k = (ts // step) % 1000
    return Candle(ts, 100.0 + k, 104.0 + k, 99.0 + k, 101.0 + k, 1.0)


def candle_event(ts: int, closed: bool, source: str = "binance", event_time: int | None = None,
                 candle: Candle | None = None) -> CandleEvent:  # fmt: skip
    """A 1m BTCUSDT candle event: final values when ``closed``, forming ones else."""
    body = candle or (final(ts) if closed else forming(ts))
    return CandleEvent(BTC, ONE_MINUTE, body, closed, event_time or ts + 1_000, source)


def ticker(base: str, last: float, event_time: int, quote: str = "USDT", open_24h: float | None = None,
           volume_quote: float | None = None, source: str = "binance") -> TickerEvent:  # fmt: skip
    """A ticker event of ``base``/``quote``."""
    return TickerEvent(
        Symbol(base, quote), last, open_24h, None, None, None, volume_quote, event_time, source
    )


@dataclass
class FakeExchange:
    """An OHLCV provider whose candles end with the one in progress on the fake clock: closed
    ones with their final values, the one in progress with its forming values."""

    clock: FakeClock
    name: str = "binance"
    error: ProviderError | None = None
    enabled: bool = True
    calls: int = 0
    gate: asyncio.Event | None = None  # when set, answers wait until it is set

    def supports(self, symbol: Symbol, interval: Interval) -> bool:
        return True

    async def fetch_ohlcv(self, symbol: Symbol, interval: Interval, limit: int) -> CandleSeries:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        step = interval.milliseconds
        now_ms = int(self.clock.now() * 1000)
        current = now_ms - now_ms % step
        opens = range(current - (limit - 1) * step, current + step, step)
        candles = tuple(final(ts, step) if ts + step <= now_ms else forming(ts, step) for ts in opens)
        return CandleSeries(symbol, interval, candles, self.name)


@dataclass
class FakeBoard:
    """A price provider quoting ``prices`` with names, 24-hour figures and market caps."""

    prices: dict[str, float]
    name: str = "coingecko"
    error: ProviderError | None = None
    enabled: bool = True
    calls: int = 0

    def lists(self, base: str) -> bool:
        return True

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return {
            b: Quote(b, f"{b} coin", self.prices[b], 2.0, 5e9, 1e12, 1_700_000_000.0, self.name)
            for b in bases
            if b in self.prices
        }


class FakeBus:
    """The EventBus port in memory: every listener gets every message published after it began."""

    def __init__(self) -> None:
        self.listeners: list[asyncio.Queue[BusMessage]] = []

    async def publish(self, message: BusMessage) -> None:
        for queue in self.listeners:
            queue.put_nowait(message)

    async def listen(self) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue()
        self.listeners.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.listeners.remove(queue)


@dataclass
class FakeInterest:
    """StreamInterest that counts watchers per key and records every call."""

    watching: Counter[StreamKey] = field(default_factory=Counter)
    log: list[tuple[str, StreamKey]] = field(default_factory=list)

    def watch(self, key: StreamKey) -> None:
        self.watching[key] += 1
        self.log.append(("watch", key))

    def unwatch(self, key: StreamKey) -> None:
        self.watching[key] -= 1
        if not self.watching[key]:
            del self.watching[key]
        self.log.append(("unwatch", key))


@dataclass
class FakeReport:
    """StreamReport with settable provider states."""

    states: dict[str, str] = field(default_factory=lambda: {"binance": "connected", "kraken": "connected"})

    def statuses(self) -> tuple[StreamStatus, ...]:
        return tuple(StreamStatus(p, s, 1, None, 0) for p, s in self.states.items())  # type: ignore[arg-type]


@dataclass
class LiveWorld:
    """A fan-out over real use cases (memory cache, fake clock) and fakes of the ports."""

    feed: LiveFanout
    get_ohlcv: GetOhlcv
    get_prices: GetPrices
    symbols: SymbolParser
    intervals: IntervalParser
    exchange: FakeExchange
    board: FakeBoard
    bus: FakeBus
    interest: FakeInterest
    report: FakeReport
    infra: Infrastructure

    @property
    def clock(self) -> FakeClock:
        return self.infra.clock

    def calls_upstream(self) -> int:
        return self.exchange.calls + self.board.calls


def live_world(queue_limit: int = 256, first_event_wait: float = 0.05, ttl: float = 300.0) -> LiveWorld:
    """The world at ``NOW``, streams connected, nothing watched yet."""
    infra = infrastructure(["binance", "coingecko"])
    infra.clock.advance(NOW - infra.clock.now())
    exchange = FakeExchange(infra.clock)
    board = FakeBoard({"BTC": 50_000.0, "ETH": 3_000.0, "SOL": 150.0})
    symbols, intervals = SymbolParser(SUPPORTED_SYMBOLS), IntervalParser(SUPPORTED_INTERVALS)
    bus, interest, report, state = FakeBus(), FakeInterest(), FakeReport(), LiveState()
    get_ohlcv = GetOhlcv(symbols, intervals, [exchange], infra.calls, infra.read_through, ttl,
                         live=LiveMarkets(state, report))  # fmt: skip
    get_prices = GetPrices(symbols, [board], infra.calls, infra.read_through, 30.0, 0.02)
    feed = LiveFanout(bus, interest, report, get_ohlcv, get_prices, symbols, intervals, infra.clock,
                      queue_limit=queue_limit, first_event_wait=first_event_wait, state=state)  # fmt: skip
    return LiveWorld(
        feed, get_ohlcv, get_prices, symbols, intervals, exchange, board, bus, interest, report, infra
    )
