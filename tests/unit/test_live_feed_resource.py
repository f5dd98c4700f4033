"""The fan-out's container resource: the feed reads the bus while the service runs, and every
inbox ends with ``FeedClosed`` when it stops."""

from __future__ import annotations

import asyncio

import pytest

from application.live.feed import FeedClosed
from application.live.updates import CandleUpdate, LiveCandle
from entrypoints.containers.live_feed import fanning_out
from tests.unit.fanout_world import OPEN_MS, candle_event, final, forming, live_world


async def test_the_feed_runs_while_the_resource_is_open_and_ends_every_inbox_after() -> None:
    w = live_world()
    resource = fanning_out(w.feed)
    feed = await anext(resource)
    inbox = feed.inbox()
    task = asyncio.ensure_future(feed.watch_candles(inbox, "BTC", "1m"))
    while not w.bus.listeners:
        await asyncio.sleep(0)
    await w.bus.publish(candle_event(OPEN_MS, False))
    await asyncio.wait_for(task, 2)
    await w.bus.publish(candle_event(OPEN_MS, True))
    update = await asyncio.wait_for(inbox.get(), 2)
    assert isinstance(update, CandleUpdate)
    assert update.candles == (LiveCandle(final(OPEN_MS), True),)
    snapshot = task.result().snapshot
    assert isinstance(snapshot, CandleUpdate)
    assert snapshot.candles[-1] == LiveCandle(forming(OPEN_MS), False)

    with pytest.raises(StopAsyncIteration):
        await anext(resource)
    with pytest.raises(FeedClosed):
        await inbox.get()
    assert w.bus.listeners == []
    assert dict(w.interest.watching) == {}
