"""The dedup rule and the gap fill plan of a candles stream (domain.candle_continuity)."""

from __future__ import annotations

from domain.candle_continuity import PublishedCandles, fill_limit, fill_plan
from tests.fake_streams import MINUTE, T0_MS, candle

NOTHING = PublishedCandles()


def ts(index: int) -> int:
    return T0_MS + index * MINUTE


def test_anything_is_admitted_before_the_first_candle() -> None:
    assert NOTHING.admits(ts(5), closed=False) is True
    assert NOTHING.admits(ts(5), closed=True) is True


def test_a_closed_candle_is_admitted_exactly_once() -> None:
    published = NOTHING.after(ts(5), closed=True)
    assert published == PublishedCandles(last_closed=ts(5), newest=ts(5))
    assert published.admits(ts(5), closed=True) is False


def test_a_live_update_of_a_candle_already_closed_is_dropped() -> None:
    published = NOTHING.after(ts(5), closed=True)
    assert published.admits(ts(5), closed=False) is False


def test_events_older_than_the_newest_closed_candle_are_dropped() -> None:
    published = NOTHING.after(ts(5), closed=True)
    assert published.admits(ts(4), closed=True) is False
    assert published.admits(ts(4), closed=False) is False


def test_the_next_candle_is_admitted_in_progress_and_closed() -> None:
    published = NOTHING.after(ts(5), closed=True)
    assert published.admits(ts(6), closed=False) is True
    progressing = published.after(ts(6), closed=False)
    assert progressing == PublishedCandles(last_closed=ts(5), newest=ts(6))
    assert progressing.admits(ts(6), closed=False) is True  # a newer state of the same candle
    assert progressing.admits(ts(6), closed=True) is True


def test_nothing_older_than_the_newest_candle_is_admitted_not_even_its_close() -> None:
    # Clients saw candle 6 begin: closing candle 5 now would be out of order (review of
    # issue 14: a takeover that heard only candle 6 in progress re-closed 5).
    published = NOTHING.after(ts(6), closed=False)
    assert published.admits(ts(5), closed=False) is False
    assert published.admits(ts(5), closed=True) is False
    assert published.admits(ts(6), closed=True) is True


def test_a_fill_never_goes_back_before_the_newest_candle_published() -> None:
    published = PublishedCandles(last_closed=None, newest=ts(5))
    plan = fill_plan(
        [candle(3), candle(4), candle(5)], published,
        interval_ms=MINUTE, now_ms=ts(5) + 30_000, settle_ms=2000, first_fill=100,
    )  # fmt: skip
    assert [(c.timestamp, closed) for c, closed in plan] == [(ts(5), False)]


def test_the_newest_closed_candle_never_moves_back() -> None:
    published = NOTHING.after(ts(7), closed=True).after(ts(6), closed=True)
    assert published == PublishedCandles(last_closed=ts(7), newest=ts(7))


def test_fill_limit_covers_every_interval_since_the_newest_closed_candle() -> None:
    published = NOTHING.after(ts(10), closed=True)
    now = ts(15) + 30_000  # half-way through candle 15: candles 11..15 missed, and one spare
    assert fill_limit(published, MINUTE, now, first_fill=100, most=1000) == 6


def test_fill_limit_counts_from_the_newest_candle_when_none_closed_yet() -> None:
    published = NOTHING.after(ts(10), closed=False)
    assert fill_limit(published, MINUTE, ts(12) + 1, first_fill=100, most=1000) == 3


def test_fill_limit_is_capped_and_first_fill_when_nothing_was_published() -> None:
    assert fill_limit(NOTHING.after(ts(0), closed=True), MINUTE, ts(5000), first_fill=100, most=1000) == 1000
    assert fill_limit(NOTHING, MINUTE, ts(5000), first_fill=100, most=1000) == 100


def plan(candles: list, published: PublishedCandles, now: int, first_fill: int = 100) -> list:
    result = fill_plan(
        candles, published, interval_ms=MINUTE, now_ms=now, settle_ms=2000, first_fill=first_fill
    )
    return [(c.timestamp, c.close, closed) for c, closed in result]


def test_the_fill_publishes_the_missed_candles_closed_then_the_newest_in_progress() -> None:
    history = [candle(i, close=100.0 + i) for i in range(8)]
    published = NOTHING.after(ts(4), closed=True).after(ts(5), closed=False)
    assert plan(history, published, now=ts(7) + 10_000) == [
        (ts(5), 105.0, True),
        (ts(6), 106.0, True),
        (ts(7), 107.0, False),
    ]


def test_an_interval_the_exchange_does_not_have_stays_missing() -> None:
    history = [candle(i, close=100.0 + i) for i in (0, 1, 2, 6, 7)]  # 3, 4, 5: an outage
    published = NOTHING.after(ts(1), closed=True)
    assert plan(history, published, now=ts(7) + 1000) == [
        (ts(2), 102.0, True),
        (ts(6), 106.0, True),
        (ts(7), 107.0, False),
    ]


def test_a_newest_candle_whose_interval_is_over_is_published_closed() -> None:
    history = [candle(i, close=100.0 + i) for i in range(4)]  # quiet since candle 3
    published = NOTHING.after(ts(2), closed=True)
    assert plan(history, published, now=ts(6)) == [(ts(3), 103.0, True)]


def test_a_newest_candle_that_just_ended_stays_in_progress_until_it_settles() -> None:
    history = [candle(i, close=100.0 + i) for i in range(4)]
    published = NOTHING.after(ts(2), closed=True)
    assert plan(history, published, now=ts(4) + 1999) == [(ts(3), 103.0, False)]
    assert plan(history, published, now=ts(4) + 2000) == [(ts(3), 103.0, True)]


def test_nothing_known_publishes_only_the_first_fill_newest_candles() -> None:
    history = [candle(i, close=100.0 + i) for i in range(10)]
    assert plan(history, NOTHING, now=ts(9) + 5, first_fill=3) == [
        (ts(7), 107.0, True),
        (ts(8), 108.0, True),
        (ts(9), 109.0, False),
    ]


def test_an_answer_out_of_order_or_with_repeats_is_published_in_order_once() -> None:
    history = [candle(7, close=107.0), candle(5, close=105.0), candle(6, close=1.0), candle(6, close=106.0)]
    published = NOTHING.after(ts(4), closed=True)
    assert plan(history, published, now=ts(7) + 5) == [
        (ts(5), 105.0, True),
        (ts(6), 106.0, True),
        (ts(7), 107.0, False),
    ]


def test_a_fill_older_than_what_was_published_publishes_nothing() -> None:
    history = [candle(i) for i in range(5)]
    published = NOTHING.after(ts(6), closed=True)
    assert plan(history, published, now=ts(7) + 5) == []
