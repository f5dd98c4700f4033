"""A stream supervisor over fakes, as entrypoints/containers/live.py builds it: two fake
MarketStreams (binance, kraken), their REST twins, the in-process demand, a recording bus and
a fake clock. Tests drive it with ``tick`` and ``settle`` instead of sleeping."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from adapters.live.memory_demand import MemoryStreamDemand
from adapters.live.memory_lease import MemoryStreamLease
from application.live.gap_filler import GapFiller
from application.live.local_interest import LocalInterest
from application.live.supervisor import StreamSupervisor
from application.provider_calls import ProviderCalls
from domain.live import StreamKey
from domain.ports import StreamLease, Telemetry
from tests.fake_streams import (
    BTC,
    M1,
    MINUTE,
    T0_MS,
    FakeCandleHistory,
    FakeMarketStream,
    RecordingBus,
    candle,
)
from tests.fakes import FakeClock

CANDLES = StreamKey.candles(BTC, M1)
TICKER = StreamKey.ticker(BTC)
LEASE_TTL = 6.0
IDLE_TIMEOUT = 60.0


@dataclass
class World:
    clock: FakeClock
    binance: FakeMarketStream
    kraken: FakeMarketStream
    rest_binance: FakeCandleHistory
    rest_kraken: FakeCandleHistory
    bus: RecordingBus
    interest: LocalInterest
    supervisor: StreamSupervisor

    def at(self, index: int, seconds: float = 30.0) -> None:
        """Move the clock to ``seconds`` into candle ``index`` (never backwards)."""
        target = (T0_MS + index * MINUTE) / 1000 + seconds
        assert target >= self.clock.now(), "the clock never goes back"
        self.clock.advance(target - self.clock.now())

    def history(self, *closes: tuple[int, float]) -> None:
        """The exchanges' candle history: (index, close) pairs, both REST providers alike."""
        candles = [candle(index, close=close) for index, close in closes]
        self.rest_binance.candles = list(candles)
        self.rest_kraken.candles = list(candles)

    async def tick(self) -> None:
        """One supervisor round, and let the stream tasks it started run."""
        await self.supervisor.tick()
        await asyncio.sleep(0)

    async def settle(self) -> None:
        """Every fill done, everything queued published."""
        await self.supervisor.settled()

    async def forget(self) -> None:
        """Settle, then forget what was published so far."""
        await self.settle()
        del self.bus.published[:]


async def live_world(
    lease: StreamLease | None = None, *, fill_attempts: int = 3, telemetry: Telemetry | None = None
) -> World:
    clock = FakeClock(T0_MS / 1000)
    binance, kraken = FakeMarketStream("binance"), FakeMarketStream("kraken")
    rest_binance, rest_kraken = FakeCandleHistory("binance"), FakeCandleHistory("kraken")
    calls = ProviderCalls(clock, request_timeout=5.0, providers=[rest_binance, rest_kraken])
    bus = RecordingBus()
    interest = LocalInterest(clock, IDLE_TIMEOUT)
    supervisor = StreamSupervisor(
        [binance, kraken],
        bus,
        lease or MemoryStreamLease(),
        MemoryStreamDemand(clock),
        interest,
        GapFiller([rest_binance, rest_kraken], calls, clock),
        clock,
        lease_ttl=LEASE_TTL,
        poll_interval=0.05,
        status_interval=1.0,
        fill_attempts=fill_attempts,
        fill_retry=0.01,
        telemetry=telemetry,
    )
    await supervisor.start()
    return World(clock, binance, kraken, rest_binance, rest_kraken, bus, interest, supervisor)


class Worlds:
    """Makes worlds for one test and stops every supervisor at its end."""

    def __init__(self) -> None:
        self._made: list[World] = []

    async def __call__(self, lease: StreamLease | None = None, **options: int) -> World:
        world = await live_world(lease, **options)
        self._made.append(world)
        return world

    async def stop(self) -> None:
        for world in self._made:
            await world.supervisor.stop()
