"""A subscriber that keeps reading survives the gap fill of a long outage: hundreds of closed
candles published back to back (review of issue 14: each took a mailbox place of its own and
every subscriber of the stream was dropped as too slow)."""

from __future__ import annotations

import asyncio

from application.live.feed import SlowSubscriber
from application.live.updates import CandleUpdate
from tests.unit.fanout_world import MINUTE_MS, OPEN_MS, candle_event, forming, live_world
from tests.unit.test_live_fanout import subscribe

T, M = OPEN_MS, MINUTE_MS


async def test_a_subscriber_that_reads_at_once_gets_all_301_candles_of_a_long_outage_fill() -> None:
    w = live_world()  # STREAM_QUEUE_LIMIT 256, the default
    inbox = w.feed.inbox()
    await subscribe(w.feed, inbox, first=forming(T))
    feeding = asyncio.ensure_future(w.feed.run())
    await asyncio.sleep(0)
    received: list[tuple[int, bool]] = []

    async def read() -> None:
        while True:
            update = await inbox.get()
            assert isinstance(update, CandleUpdate)
            received.extend((c.candle.timestamp, c.closed) for c in update.candles)

    reader = asyncio.ensure_future(read())
    try:
        # the holder's publisher puts the fill on the bus back to back (no await yields there)
        for i in range(300):
            await w.bus.publish(candle_event(T + i * M, True))
        await w.bus.publish(candle_event(T + 300 * M, False))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not (reader.done() and isinstance(reader.exception(), SlowSubscriber)), "dropped as too slow"
        assert received == [(T + i * M, True) for i in range(300)] + [(T + 300 * M, False)]
    finally:
        reader.cancel()
        feeding.cancel()
        await asyncio.gather(reader, feeding, return_exceptions=True)
