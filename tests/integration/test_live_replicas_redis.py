"""Two replicas' stream supervisors on one real redis-server: only the lease holder runs
upstream streams, every replica gets every event, and the other takes over, filling from
where the holder stopped, when the holder stops renewing (fake MarketStreams; real Redis,
real time with short durations)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.live.redis_bus import RedisEventBus
from adapters.live.redis_demand import RedisStreamDemand
from adapters.live.redis_lease import RedisStreamLease
from adapters.redis_client import redis_client
from application.live.gap_filler import GapFiller
from application.live.local_interest import LocalInterest
from application.live.supervisor import StreamSupervisor
from application.provider_calls import ProviderCalls
from domain.live import CandleEvent, StreamKey
from domain.ports import BusMessage
from tests.fake_streams import (
    BTC,
    M1,
    MINUTE,
    T0_MS,
    FakeCandleHistory,
    FakeMarketStream,
    candle,
    candle_event,
)

PREFIX = "cde:v1:"
LEASE_TTL = 0.9
CANDLES = StreamKey.candles(BTC, M1)


def ts(index: int) -> int:
    return T0_MS + index * MINUTE


class RunningClock:
    """Implements Clock: real time, with the wall clock set 30 s into candle 6 at the start
    (and ``skip`` moves it on at once)."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._skipped = 0.0

    def now(self) -> float:
        return ts(6) / 1000 + 30 + self._skipped + (time.monotonic() - self._start)

    def skip(self, seconds: float) -> None:
        self._skipped += seconds

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class FailingLease:
    """The replica's Redis lease, until ``cut``: then every call fails as if Redis could not
    be reached from this replica (it stops renewing)."""

    lease: RedisStreamLease
    cut: bool = False

    async def hold(self, ttl: float) -> bool:
        if self.cut:
            raise ConnectionError("redis unreachable from this replica")
        return await self.lease.hold(ttl)

    async def release(self) -> None:
        if not self.cut:
            await self.lease.release()


@dataclass
class Replica:
    stream: FakeMarketStream
    rest: FakeCandleHistory
    interest: LocalInterest
    lease: FailingLease
    supervisor: StreamSupervisor
    heard: list[BusMessage] = field(default_factory=list)

    def candles(self) -> list[tuple[int, float, bool]]:
        return [
            (m.candle.timestamp, m.candle.close, m.closed) for m in self.heard if isinstance(m, CandleEvent)
        ]


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def replica(url: str, clock: RunningClock) -> AsyncIterator[Replica]:
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(asynccontextmanager(redis_client)(url, 0.5))
        bus = RedisEventBus(client, PREFIX)
        await bus.start()
        stack.push_async_callback(bus.stop)
        stream, rest = FakeMarketStream("binance"), FakeCandleHistory("binance")
        interest = LocalInterest(clock, idle_timeout=60)
        lease = FailingLease(RedisStreamLease(client, PREFIX))
        supervisor = StreamSupervisor(
            [stream], bus, lease, RedisStreamDemand(client, PREFIX, clock), interest,
            GapFiller([rest], ProviderCalls(clock, 2.0, providers=[rest]), clock), clock,
            lease_ttl=LEASE_TTL, poll_interval=0.05, status_interval=0.2,
        )  # fmt: skip
        made = Replica(stream, rest, interest, lease, supervisor)

        async def hear() -> None:
            async for message in bus.listen():
                made.heard.append(message)

        for work in (hear(), supervisor.run()):
            stack.push_async_callback(_cancelled, asyncio.create_task(work))
        yield made


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def clock() -> RunningClock:
    return RunningClock()


@pytest.fixture
async def two(redis_server: Any, clock: RunningClock) -> AsyncIterator[tuple[Replica, Replica]]:
    async with replica(redis_server.url, clock) as first:
        await until(lambda: first.supervisor.holding)
        async with replica(redis_server.url, clock) as second:
            history = [candle(i, close=100.0 + i) for i in range(7)]
            first.rest.candles, second.rest.candles = list(history), list(history)
            yield first, second


async def test_one_replica_runs_the_streams_another_replicas_watchers_ask_for(
    two: tuple[Replica, Replica],
) -> None:
    holder, other = two
    other.interest.watch(CANDLES)  # a client of the replica without the lease
    await until(lambda: holder.stream.wanted == {CANDLES})
    await asyncio.sleep(3 * 0.05)
    assert holder.stream.runs == 1 and holder.stream.running
    assert other.stream.runs == 0 and other.stream.wants == []
    assert other.supervisor.holding is False


async def test_both_replicas_get_every_event_in_order(two: tuple[Replica, Replica]) -> None:
    holder, other = two
    other.interest.watch(CANDLES)
    await until(lambda: holder.stream.wanted == {CANDLES})
    holder.stream.go_live()
    await until(lambda: len(holder.candles()) == 7)
    holder.stream.send(candle_event(6, False, close=106.5), candle_event(6, True, close=106.9))
    # Sent together, the in-progress 106.5 is replaced by the close while it waits for the bus
    # (the holder's publisher keeps the latest state per candle).
    expected = [(ts(i), 100.0 + i, True) for i in range(6)] + [(ts(6), 106.0, False), (ts(6), 106.9, True)]
    await until(lambda: len(holder.candles()) == 8 and len(other.candles()) == 8)
    assert holder.candles() == expected
    assert other.candles() == expected
    await until(lambda: any(getattr(m, "streams", 0) == 1 for m in other.heard))
    assert other.supervisor.report.statuses()[0].streams == 1  # the holder's status, heard


async def test_the_other_replica_takes_over_when_the_holder_stops_renewing_and_fills_from_there(
    two: tuple[Replica, Replica], clock: RunningClock
) -> None:
    holder, other = two
    other.interest.watch(CANDLES)
    await until(lambda: holder.stream.wanted == {CANDLES})
    holder.stream.go_live()
    await until(lambda: len(holder.candles()) == 7)  # the first fill is out
    holder.stream.send(candle_event(6, False, close=106.5))
    await until(lambda: len(other.candles()) == 8)
    # The exchange moves on while the holder is cut off: candle 6 closes, 7 starts.
    other.rest.candles = [candle(i, close=100.0 + i) for i in range(6)] + [candle(6, 206.0), candle(7, 207.0)]
    clock.skip(60)
    cut_at = time.monotonic()
    holder.lease.cut = True
    await until(lambda: other.stream.running, seconds=LEASE_TTL * 4)
    took = time.monotonic() - cut_at
    assert LEASE_TTL * 0.5 < took < LEASE_TTL * 3
    await until(lambda: not holder.stream.running, seconds=0.3)  # never two upstream holders for long
    await until(lambda: other.stream.wanted == {CANDLES})
    other.stream.go_live()
    await until(lambda: len(other.candles()) == 10)
    assert other.candles()[8:] == [(ts(6), 206.0, True), (ts(7), 207.0, False)]
    assert holder.candles() == other.candles()


async def test_a_clean_stop_hands_the_streams_over_at_once(two: tuple[Replica, Replica]) -> None:
    holder, other = two
    other.interest.watch(CANDLES)
    await until(lambda: holder.stream.wanted == {CANDLES})
    stopped_at = time.monotonic()
    await holder.supervisor.stop()
    await until(lambda: other.stream.running, seconds=LEASE_TTL)
    assert time.monotonic() - stopped_at < LEASE_TTL / 2
