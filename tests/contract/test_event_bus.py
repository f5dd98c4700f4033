"""The EventBus contract, for the in-process bus and Redis pub/sub: every message published
from the moment a listener listens, in order, field for field, to every listener (of every
replica, where the bus is shared), until the listener is closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.live.memory_bus import MemoryEventBus
from adapters.live.redis_bus import RedisEventBus
from domain.candle import Candle
from domain.interval import Interval
from domain.live import CandleEvent, StreamStatus, TickerEvent
from domain.ports import BusMessage, EventBus
from domain.symbol import Symbol
from tests.contract.live_state import LIVE_BACKENDS, PREFIX, redis_of

MESSAGES: list[BusMessage] = [
    CandleEvent(
        Symbol("BTC", "USDT"),
        Interval("1m"),
        Candle(1_716_528_000_000, 67012.1, 67100.0, 0.1 + 0.2, 1e-8, 123456789.12345679),
        False,
        1_716_528_034_512,
        "binance",
    ),
    CandleEvent(
        Symbol("ETH", "USDC"),
        Interval("1w"),
        Candle(1_716_163_200_000, 1.5, 2.0, 1.0, 1.75, 0.0),
        True,
        1_716_767_999_999,
        "kraken",
    ),
    TickerEvent(
        Symbol("SOL", "USD"), 150.25, 148.0, 151.5, 147.0, 1234.5, 185_000.75, 1_716_528_034_000, "kraken"
    ),
    TickerEvent(Symbol("XRP", "USDT"), 0.5123, None, None, None, None, None, 1_716_528_034_001, "binance"),
    StreamStatus("binance", "connected", 42, 1_716_528_034.25, 3),
    StreamStatus("kraken", "down", 0, None, 0),
]


@dataclass
class BusCase:
    """Two replicas' buses and whether a message of one reaches the listeners of the other."""

    bus: EventBus
    other: EventBus
    shared: bool


@pytest.fixture(params=LIVE_BACKENDS)
async def bus_case(request: pytest.FixtureRequest) -> AsyncIterator[BusCase]:
    if request.param == "memory":
        yield BusCase(MemoryEventBus(), MemoryEventBus(), shared=False)
        return
    async with redis_of(request) as client:
        bus, other = RedisEventBus(client, PREFIX), RedisEventBus(client, PREFIX)
        await bus.start()
        await other.start()
        try:
            yield BusCase(bus, other, shared=True)
        finally:
            await bus.stop()
            await other.stop()


async def take(listener: AsyncIterator[BusMessage], count: int) -> list[BusMessage]:
    async with asyncio.timeout(3):
        return [await anext(listener) for _ in range(count)]


async def nothing_more(listener: AsyncIterator[BusMessage]) -> bool:
    try:
        async with asyncio.timeout(0.2):
            await anext(listener)
    except TimeoutError:
        return True
    return False


async def test_a_listener_gets_every_message_in_order_field_for_field(bus_case: BusCase) -> None:
    listener = bus_case.bus.listen()
    for message in MESSAGES:
        await bus_case.bus.publish(message)
    received = await take(listener, len(MESSAGES))
    assert received == MESSAGES
    first = received[0]
    assert isinstance(first, CandleEvent)
    assert (type(first.candle.timestamp), type(first.candle.open), type(first.event_time)) == (
        int,
        float,
        int,
    )


async def test_every_listener_gets_every_message(bus_case: BusCase) -> None:
    first, second = bus_case.bus.listen(), bus_case.bus.listen()
    await bus_case.bus.publish(MESSAGES[0])
    await bus_case.bus.publish(MESSAGES[4])
    assert await take(first, 2) == [MESSAGES[0], MESSAGES[4]]
    assert await take(second, 2) == [MESSAGES[0], MESSAGES[4]]


async def test_messages_published_before_listening_are_not_received(bus_case: BusCase) -> None:
    await bus_case.bus.publish(MESSAGES[2])
    await asyncio.sleep(0.05)
    listener = bus_case.bus.listen()
    await bus_case.bus.publish(MESSAGES[3])
    assert await take(listener, 1) == [MESSAGES[3]]


async def test_a_closed_listener_ends_and_receives_nothing_more(bus_case: BusCase) -> None:
    listener = bus_case.bus.listen()
    pending = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(0.01)
    await listener.aclose()  # type: ignore[attr-defined]
    with pytest.raises(StopAsyncIteration):
        await pending
    await bus_case.bus.publish(MESSAGES[0])
    with pytest.raises(StopAsyncIteration):
        await anext(listener)


async def test_the_listeners_of_another_replica_get_the_messages_only_where_the_bus_is_shared(
    bus_case: BusCase,
) -> None:
    mine, theirs = bus_case.bus.listen(), bus_case.other.listen()
    await bus_case.bus.publish(MESSAGES[1])
    assert await take(mine, 1) == [MESSAGES[1]]
    if bus_case.shared:
        assert await take(theirs, 1) == [MESSAGES[1]]
    else:
        assert await nothing_more(theirs)
