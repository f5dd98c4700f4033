"""The mailbox: latest state per key, a closed candle never lost to conflation, never blocking
the producer, bounded, and a subscriber that falls too far behind dropped with a reason."""

from __future__ import annotations

import asyncio

import pytest

from application.live.feed import FeedClosed, SlowSubscriber
from application.live.mailbox import Mailbox
from application.live.updates import CandleUpdate, LiveCandle, PriceUpdate
from domain.ports import NoTelemetry
from tests.unit.fanout_world import BTC, MINUTE_MS, ONE_MINUTE, OPEN_MS, final, forming

T = OPEN_MS


class Recorder(NoTelemetry):
    def __init__(self) -> None:
        self.dropped = 0
        self.delivered: list[str] = []

    def slow_subscriber_dropped(self) -> None:
        self.dropped += 1

    def update_delivered(self, channel: str) -> None:
        self.delivered.append(channel)


def update(ts: int, closed: bool, seq: int) -> CandleUpdate:
    candle = final(ts) if closed else forming(ts)
    return CandleUpdate("update", BTC, ONE_MINUTE, "binance", (LiveCandle(candle, closed),), ts, ts, seq)


def mailbox(limit: int = 10, telemetry: Recorder | None = None) -> tuple[Mailbox, list[Mailbox]]:
    ended: list[Mailbox] = []
    return Mailbox(limit, ended.append, telemetry or Recorder()), ended


async def drain(box: Mailbox) -> list[int]:
    seqs = []
    while box.pending:
        seqs.append((await box.get()).seq)
    return seqs


async def test_a_newer_state_of_a_waiting_candle_takes_its_place_in_order_of_first_arrival() -> None:
    box, _ = mailbox()
    box.offer(("k", T), update(T, False, 1))
    box.offer(("k", T + MINUTE_MS), update(T + MINUTE_MS, False, 2))
    box.offer(("k", T), update(T, False, 3))
    assert box.pending == 2
    assert await drain(box) == [3, 2]


async def test_a_closed_candle_is_never_replaced_by_a_later_state_of_itself() -> None:
    box, _ = mailbox()
    box.offer(("k", T), update(T, False, 1))
    box.offer(("k", T), update(T, True, 2), final=True)  # the close replaces the forming state
    box.offer(("k", T), update(T, False, 3))  # a stray forming state after it is not news
    got = await box.get()
    assert isinstance(got, CandleUpdate)
    assert (got.seq, got.candles[0].closed) == (2, True)
    assert box.pending == 0


async def test_a_closed_candle_survives_a_flood_of_updates_of_the_next_one() -> None:
    box, _ = mailbox()
    box.offer(("k", T), update(T, True, 1), final=True)
    for seq in range(2, 50):
        box.offer(("k", T + MINUTE_MS), update(T + MINUTE_MS, False, seq))
    assert [(await box.get()).seq, (await box.get()).seq] == [1, 49]


async def test_get_waits_until_an_offer_wakes_it() -> None:
    box, _ = mailbox()
    waiting = asyncio.ensure_future(box.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    box.offer(("k", T), update(T, False, 7))
    assert (await asyncio.wait_for(waiting, 1)).seq == 7


async def test_one_key_too_many_drops_the_subscriber_with_a_reason_and_frees_what_waited() -> None:
    telemetry = Recorder()
    box, ended = mailbox(limit=3, telemetry=telemetry)
    for i in range(3):
        box.offer(("k", T + i * MINUTE_MS), update(T + i * MINUTE_MS, False, i + 1))
    assert box.pending == 3 and not box.ended
    box.offer(("k", T), update(T, False, 9))  # a key already waiting: conflated, not more
    assert box.pending == 3 and not box.ended
    box.offer(("k", T + 3 * MINUTE_MS), update(T + 3 * MINUTE_MS, False, 10))
    assert box.ended and box.pending == 0
    assert ended == [box] and telemetry.dropped == 1
    with pytest.raises(SlowSubscriber) as dropped:
        await box.get()
    assert dropped.value.reason == "too slow: more than 3 updates waiting"
    box.offer(("k", T + 4 * MINUTE_MS), update(T + 4 * MINUTE_MS, False, 11))  # ignored, stays bounded
    assert box.pending == 0 and ended == [box] and telemetry.dropped == 1


async def test_a_waiting_get_learns_that_it_was_dropped() -> None:
    box, _ = mailbox(limit=1)
    box.offer(("k", T), update(T, False, 1))
    assert (await box.get()).seq == 1
    waiting = asyncio.ensure_future(box.get())
    await asyncio.sleep(0)
    box.close()
    with pytest.raises(FeedClosed):
        await asyncio.wait_for(waiting, 1)


async def test_closing_ends_it_once_and_discards_what_waited() -> None:
    box, ended = mailbox()
    box.offer(("p", "BTC"), PriceUpdate("update", (), None, T, 1))
    box.close()
    box.close()
    assert ended == [box] and box.pending == 0
    with pytest.raises(FeedClosed):
        await box.get()


async def test_each_update_taken_is_counted_by_channel() -> None:
    telemetry = Recorder()
    box, _ = mailbox(telemetry=telemetry)
    box.offer(("k", T), update(T, False, 1))
    box.offer(("p", "BTC"), PriceUpdate("update", (), None, T, 1))
    await drain(box)
    assert telemetry.delivered == ["candles", "prices"]


async def test_a_burst_of_closed_candles_waits_as_one_update_and_drops_nobody() -> None:
    # A gap fill after a long outage publishes hundreds of closes back to back (review of
    # issue 14: each took a place of its own, and every subscriber was dropped as too slow).
    box, ended = mailbox(limit=4)
    for index in range(300):
        box.offer(("k", T + index * MINUTE_MS), update(T + index * MINUTE_MS, True, index + 1), final=True)
    box.offer(("k", T + 300 * MINUTE_MS), update(T + 300 * MINUTE_MS, False, 301))
    assert (box.pending, ended) == (2, [])
    joined = await box.get()
    assert isinstance(joined, CandleUpdate)
    assert [(c.candle.timestamp, c.closed) for c in joined.candles] == [
        (T + index * MINUTE_MS, True) for index in range(300)
    ]
    assert (joined.seq, joined.event_time) == (300, T + 299 * MINUTE_MS)  # the newest close's
    forming_one = await box.get()
    assert isinstance(forming_one, CandleUpdate)
    assert [(c.candle.timestamp, c.closed) for c in forming_one.candles] == [(T + 300 * MINUTE_MS, False)]


async def test_closes_are_joined_only_to_closes_of_the_same_market_waiting_last() -> None:
    box, _ = mailbox()
    box.offer(("k", T), update(T, True, 1), final=True)
    box.offer(("k", T + MINUTE_MS), update(T + MINUTE_MS, False, 2))  # a forming candle in between
    box.offer(("k", T + 2 * MINUTE_MS), update(T + 2 * MINUTE_MS, True, 3), final=True)
    assert box.pending == 3
    assert await drain(box) == [1, 2, 3]
