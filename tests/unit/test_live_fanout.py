"""The live fan-out of candles: snapshot then updates without a repeat or a gap, one update
object per event whatever the number of subscribers, slow subscribers dropped without slowing
the others, bounded memory, and the stream interest kept exact."""

from __future__ import annotations

import asyncio

import pytest

from application.live.fanout import LiveFanout
from application.live.feed import FeedClosed, SlowSubscriber
from application.live.mailbox import Mailbox
from application.live.topic import TopicWatch
from application.live.updates import CandleUpdate, LiveCandle, LiveUpdate
from domain.candle import Candle
from domain.errors import (
    AllProvidersFailed,
    InvalidInterval,
    InvalidParameter,
    InvalidSymbol,
    ProviderUnavailable,
)
from tests.unit.fanout_world import BTC_1M, MINUTE_MS, OPEN_MS, candle_event, final, forming, live_world

T = OPEN_MS  # the world's clock is 30 s into the candle that opened at T
M = MINUTE_MS


async def subscribe(feed: LiveFanout, inbox: Mailbox, first: Candle | None = None) -> TopicWatch:
    """Watch BTCUSDT 1m; ``first``: the stream's first event, sent while the watch waits for it."""
    task = asyncio.ensure_future(feed.watch_candles(inbox, "BTC", "1m"))
    await asyncio.sleep(0)
    if first is not None:
        feed.apply(candle_event(first.timestamp, False, candle=first))
    return await asyncio.wait_for(task, 2)


def taken(update: LiveUpdate) -> tuple[int, tuple[LiveCandle, ...]]:
    assert isinstance(update, CandleUpdate)
    return update.seq, update.candles


async def test_the_snapshot_joins_the_cached_candles_and_the_stream_then_every_change_follows() -> None:
    w = live_world()
    inbox = w.feed.inbox()
    watch = await subscribe(w.feed, inbox, first=forming(T))
    snapshot = watch.snapshot
    assert isinstance(snapshot, CandleUpdate)
    assert (snapshot.type, snapshot.symbol.pair, snapshot.interval.name, snapshot.source) == (
        "snapshot", "BTCUSDT", "1m", "binance",
    )  # fmt: skip
    assert (snapshot.seq, snapshot.event_time, snapshot.timestamp) == (0, T + 1_000, T + 30_000)
    assert len(snapshot.candles) == 100
    assert snapshot.candles[0] == LiveCandle(final(T - 99 * M), True)
    assert snapshot.candles[-2:] == (LiveCandle(final(T - M), True), LiveCandle(forming(T), False))
    assert [c.closed for c in snapshot.candles].count(False) == 1

    w.feed.apply(candle_event(T, True))
    w.feed.apply(candle_event(T + M, False))
    assert [taken(await inbox.get()), taken(await inbox.get())] == [
        (1, (LiveCandle(final(T), True),)),
        (2, (LiveCandle(forming(T + M), False),)),
    ]
    assert dict(w.interest.watching) == {BTC_1M: 1}


async def test_changes_during_the_snapshot_are_in_it_and_never_repeated_after_it() -> None:
    w = live_world()
    first = w.feed.inbox()
    await subscribe(w.feed, first, first=forming(T))
    await w.infra.cache.clear()  # the next snapshot must fetch, and the fetch takes a while
    w.exchange.gate = asyncio.Event()
    second = w.feed.inbox()
    joining = asyncio.ensure_future(w.feed.watch_candles(second, "BTC", "1m"))
    await asyncio.sleep(0.01)
    w.clock.advance(40)  # T + 70 s
    w.feed.apply(candle_event(T, True))
    w.feed.apply(candle_event(T + M, False))
    w.exchange.gate.set()
    watch = await asyncio.wait_for(joining, 2)
    later = Candle(T + M, 101.0, 120.0, 80.0, 119.0, 2.0)
    w.feed.apply(candle_event(T + M, False, candle=later))

    snapshot = watch.snapshot
    assert isinstance(snapshot, CandleUpdate)
    assert snapshot.seq == 2
    assert snapshot.candles[-3:] == (
        LiveCandle(final(T - M), True), LiveCandle(final(T), True), LiveCandle(forming(T + M), False),
    )  # fmt: skip
    assert taken(await second.get()) == (3, (LiveCandle(later, False),))
    assert second.pending == 0
    # The first subscriber read nothing meanwhile: the forming candle's two states waited as one.
    assert [taken(await first.get())[0] for _ in range(2)] == [1, 3]
    assert first.pending == 0


async def test_one_update_object_is_offered_to_every_subscriber() -> None:
    w = live_world()
    inboxes = [w.feed.inbox() for _ in range(50)]
    await subscribe(w.feed, inboxes[0], first=forming(T))
    for inbox in inboxes[1:]:
        await w.feed.watch_candles(inbox, "btcusdt", "1m")
    w.feed.apply(candle_event(T, True))
    updates = [await inbox.get() for inbox in inboxes]
    assert len({id(update) for update in updates}) == 1
    assert taken(updates[0]) == (1, (LiveCandle(final(T), True),))
    assert dict(w.interest.watching) == {BTC_1M: 50}


async def test_a_slow_subscriber_is_dropped_with_a_reason_while_a_fast_one_gets_every_update() -> None:
    w = live_world(queue_limit=4)
    fast, slow = w.feed.inbox(), w.feed.inbox()
    await subscribe(w.feed, fast, first=forming(T))
    await w.feed.watch_candles(slow, "BTC", "1m")
    received: list[tuple[int, bool]] = []

    async def read() -> None:
        while True:
            update = await fast.get()
            assert isinstance(update, CandleUpdate)
            received.extend((c.candle.timestamp, c.closed) for c in update.candles)

    reader = asyncio.ensure_future(read())
    sent: list[tuple[int, bool]] = []
    for i in range(1, 12):
        for event in (candle_event(T + (i - 1) * M, True), candle_event(T + i * M, False)):
            w.feed.apply(event)
            sent.append((event.candle.timestamp, event.closed))
            await asyncio.sleep(0)
    await asyncio.sleep(0)
    reader.cancel()

    assert received == sent
    with pytest.raises(SlowSubscriber) as dropped:
        await slow.get()
    assert dropped.value.reason == "too slow: more than 4 updates waiting"
    assert slow.pending == 0
    assert dict(w.interest.watching) == {BTC_1M: 1}  # the dropped one no longer watches
    assert w.feed.subscribers == 1


async def test_memory_stays_bounded_for_a_subscriber_that_never_reads() -> None:
    w = live_world(queue_limit=300)
    idle = w.feed.inbox()
    await subscribe(w.feed, idle, first=forming(T))
    for i in range(1000):  # a thousand changes of one candle wait as one
        w.feed.apply(candle_event(T, False, candle=Candle(T, 1.0, 2.0, 0.5, 1.0 + i, float(i))))
    assert idle.pending == 1
    for i in range(250):  # every closed candle waits: one key each, never conflated away
        w.feed.apply(candle_event(T + i * M, True))
        w.feed.apply(candle_event(T + (i + 1) * M, False))
    assert idle.pending == 251
    trail = w.feed.state.trail(BTC_1M)
    assert trail is not None and len(trail) == 101
    for i in range(250, 400):  # the live flow goes on: a close, then the next candle forming
        w.feed.apply(candle_event(T + i * M, True))
        w.feed.apply(candle_event(T + (i + 1) * M, False))
    assert idle.ended and idle.pending == 0


async def test_parameters_are_checked_before_any_upstream_call_or_stream_interest() -> None:
    w = live_world()
    inbox = w.feed.inbox()
    with pytest.raises(InvalidSymbol):
        await w.feed.watch_candles(inbox, "NOPE", "1m")
    with pytest.raises(InvalidInterval):
        await w.feed.watch_candles(inbox, "BTC", "2m")
    with pytest.raises(InvalidParameter):
        await w.feed.watch_candles(inbox, None, "1m")
    with pytest.raises(InvalidSymbol):
        await w.feed.watch_prices(inbox, ["BTC", "NOPE"])
    assert w.calls_upstream() == 0
    assert w.interest.log == []


async def test_the_interval_defaults_to_1h_as_in_the_rest_api() -> None:
    w = live_world()
    w.report.states = {"binance": "down"}
    watch = await w.feed.watch_candles(w.feed.inbox(), "ETH", None)
    assert isinstance(watch.snapshot, CandleUpdate)
    assert str(next(iter(w.interest.watching))) == "candles:ETHUSDT:1h"


async def test_without_a_stream_the_snapshot_is_the_cached_window_with_its_newest_in_progress() -> None:
    w = live_world(first_event_wait=5.0)
    w.clock.advance(-60)
    await w.get_ohlcv.execute("BTC", "1m", 1)  # cached while the candle before T formed
    w.clock.advance(60)
    w.report.states = {"binance": "down", "kraken": "down"}  # nothing to wait for
    watch = await asyncio.wait_for(w.feed.watch_candles(w.feed.inbox(), "BTC", "1m"), 1)
    assert w.exchange.calls == 2  # fetched again: what was cached does not show the candle forming now
    snapshot = watch.snapshot
    assert isinstance(snapshot, CandleUpdate)
    assert snapshot.event_time is None
    assert snapshot.candles[-2:] == (LiveCandle(final(T - M), True), LiveCandle(forming(T), False))
    assert len(snapshot.candles) == 100


async def test_cached_candles_fetched_before_the_stream_began_are_fetched_again() -> None:
    w = live_world()
    await w.get_ohlcv.execute("BTC", "1m", 100)  # cached at T + 30 s, T still forming
    w.clock.advance(3 * 60 + 10)  # T + 3 min + 40 s
    watch = await subscribe(w.feed, w.feed.inbox(), first=forming(T + 3 * M))
    assert w.exchange.calls == 2
    snapshot = watch.snapshot
    assert isinstance(snapshot, CandleUpdate)
    assert snapshot.candles[-5:] == (
        LiveCandle(final(T - M), True), LiveCandle(final(T), True), LiveCandle(final(T + M), True),
        LiveCandle(final(T + 2 * M), True), LiveCandle(forming(T + 3 * M), False),
    )  # fmt: skip


async def test_no_snapshot_at_all_is_an_error_and_leaves_nothing_watched() -> None:
    w = live_world()
    w.report.states = {"binance": "down"}
    w.exchange.error = ProviderUnavailable("binance", "HTTP 503")
    with pytest.raises(AllProvidersFailed):
        await w.feed.watch_candles(w.feed.inbox(), "BTC", "1m")
    assert w.interest.log == [("watch", BTC_1M), ("unwatch", BTC_1M)]
    assert w.feed.state.trail(BTC_1M) is None


async def test_with_the_rest_providers_down_the_stream_alone_makes_the_snapshot() -> None:
    w = live_world()
    w.exchange.error = ProviderUnavailable("binance", "HTTP 503")
    watch = await subscribe(w.feed, w.feed.inbox(), first=forming(T))
    assert isinstance(watch.snapshot, CandleUpdate)
    assert watch.snapshot.candles == (LiveCandle(forming(T), False),)


async def test_stopping_closing_and_shutting_down_release_every_watch() -> None:
    w = live_world()
    one, two = w.feed.inbox(), w.feed.inbox()
    watch = await subscribe(w.feed, one, first=forming(T))
    await w.feed.watch_candles(one, "BTC", "1m")
    await w.feed.watch_prices(one, "BTC,ETH")
    await w.feed.watch_candles(two, "BTC", "1m")
    assert w.interest.watching[BTC_1M] == 3
    watch.stop()
    watch.stop()
    assert w.interest.watching[BTC_1M] == 2
    w.feed.apply(candle_event(T, True))
    one.close()
    assert dict(w.interest.watching) == {BTC_1M: 1}
    w.feed.close()
    assert dict(w.interest.watching) == {}
    assert w.feed.state.trail(BTC_1M) is None
    with pytest.raises(FeedClosed):
        await two.get()
    with pytest.raises(FeedClosed):
        w.feed.inbox()


async def test_an_inbox_closed_while_its_snapshot_was_prepared_watches_nothing() -> None:
    w = live_world(first_event_wait=5.0)
    inbox = w.feed.inbox()
    task = asyncio.ensure_future(w.feed.watch_candles(inbox, "BTC", "1m"))
    await asyncio.sleep(0)
    inbox.close()
    w.feed.apply(candle_event(T, False))
    with pytest.raises(FeedClosed):
        await asyncio.wait_for(task, 1)
    assert dict(w.interest.watching) == {}


async def test_events_come_from_the_bus_and_the_inboxes_end_when_the_feed_stops() -> None:
    w = live_world()
    inbox = w.feed.inbox()
    await subscribe(w.feed, inbox, first=forming(T))
    running = asyncio.ensure_future(w.feed.run())
    while not w.bus.listeners:
        await asyncio.sleep(0)
    await w.bus.publish(candle_event(T, True))
    assert taken(await asyncio.wait_for(inbox.get(), 1)) == (1, (LiveCandle(final(T), True),))
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    with pytest.raises(FeedClosed):
        await inbox.get()
    assert w.bus.listeners == []


async def test_a_snapshot_waits_past_the_first_fill_event_for_the_candle_forming_now() -> None:
    """A stream's first fill publishes 100 closed candles, oldest first, then the one in
    progress; over Redis they arrive in several reads. A subscriber woken by the oldest must not
    start from a trail that ends hours ago and then get the rest as "updates"."""
    w = live_world(first_event_wait=5.0)
    inbox = w.feed.inbox()
    task = asyncio.ensure_future(w.feed.watch_candles(inbox, "BTC", "1m"))
    await asyncio.sleep(0)
    w.feed.apply(candle_event(T - 99 * M, True))
    await asyncio.sleep(0.1)  # the subscriber runs between two reads of the bus
    assert not task.done()
    for index in range(98, 0, -1):
        w.feed.apply(candle_event(T - index * M, True))
    w.feed.apply(candle_event(T, False))
    watch = await asyncio.wait_for(task, 2)
    snapshot = watch.snapshot
    assert isinstance(snapshot, CandleUpdate)
    assert snapshot.candles[-1] == LiveCandle(forming(T), False)
    assert [c.candle.timestamp for c in snapshot.candles] == [T - i * M for i in range(99, -1, -1)]
    w.feed.apply(candle_event(T, True))
    assert taken(await asyncio.wait_for(inbox.get(), 1)) == (1, (LiveCandle(final(T), True),))
