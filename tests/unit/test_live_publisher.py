"""The holder's ordered publisher: order kept, a waiting message replaced by a newer state of
the same thing, and a bounded queue while the bus is stuck (review of issue 14)."""

from __future__ import annotations

import asyncio

from application.live.publisher import OrderedPublisher
from domain.live import CandleEvent, TickerEvent
from domain.ports import BusMessage
from tests.fake_streams import ETH, candle_event, ticker_event


class GatedBus:
    """Records what is published; publishing waits while ``gate`` is closed."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.published: list[BusMessage] = []

    async def publish(self, message: BusMessage) -> None:
        await self.gate.wait()
        self.published.append(message)

    def listen(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def described(message: BusMessage) -> tuple[object, ...]:
    if isinstance(message, CandleEvent):
        return ("candle", message.candle.timestamp, message.candle.close, message.closed)
    assert isinstance(message, TickerEvent)
    return ("ticker", message.symbol.base, message.last)


async def test_waiting_states_are_replaced_in_place_and_order_is_kept() -> None:
    bus = GatedBus()
    publisher = OrderedPublisher(bus)  # type: ignore[arg-type]
    running = asyncio.create_task(publisher.run())
    try:
        publisher.put(ticker_event(1.0))  # taken by run() at once, waits at the gate
        await asyncio.sleep(0)
        publisher.put(candle_event(0, False, close=100.0))
        publisher.put(ticker_event(2.0))
        publisher.put(candle_event(0, True, close=101.0))  # replaces candle 0's waiting state
        publisher.put(candle_event(1, False, close=102.0))
        publisher.put(ticker_event(3.0))  # replaces the waiting BTC ticker
        publisher.put(ticker_event(9.0, symbol=ETH))
        assert publisher.pending == 4
        bus.gate.set()
        await publisher.flush()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [described(m) for m in bus.published] == [
        ("ticker", "BTC", 1.0),
        ("candle", candle_event(0, True).candle.timestamp, 101.0, True),
        ("ticker", "BTC", 3.0),
        ("candle", candle_event(1, False).candle.timestamp, 102.0, False),
        ("ticker", "ETH", 9.0),
    ]


async def test_the_queue_is_bounded_while_the_bus_is_stuck() -> None:
    bus = GatedBus()
    publisher = OrderedPublisher(bus, limit=100)  # type: ignore[arg-type]
    running = asyncio.create_task(publisher.run())
    try:
        publisher.put(ticker_event(1.0))
        await asyncio.sleep(0)  # in flight, stuck
        for index in range(1_000):  # a thousand candles while the bus hangs
            publisher.put(candle_event(index, True))
        assert (publisher.pending, publisher.dropped) == (100, 900)
        bus.gate.set()
        await publisher.flush()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    # the oldest waiting were dropped: the newest 100 candles went out, in order
    assert [m.candle.timestamp for m in bus.published[1:]] == [  # type: ignore[union-attr]
        candle_event(index, True).candle.timestamp for index in range(900, 1_000)
    ]
