"""The candle trail: a closed candle once and for good, never an older state over a newer one,
bounded however long the stream runs; and joining it with fetched candles."""

from __future__ import annotations

from domain.candle_trail import CandleTrail
from domain.live_window import fetched_window, joined_window
from tests.unit.fanout_world import MINUTE_MS, OPEN_MS, final, forming

T = OPEN_MS


def test_a_closed_candle_ends_the_one_in_progress_and_is_kept_once() -> None:
    trail = CandleTrail()
    assert trail.accept(forming(T), closed=False) is True
    assert trail.in_progress == forming(T)
    assert trail.accept(final(T), closed=True) is True
    assert (trail.closed, trail.in_progress) == ((final(T),), None)
    assert trail.accept(final(T), closed=True) is False  # the same close again
    assert trail.accept(forming(T), closed=False) is False  # a late echo of the forming state
    assert trail.closed == (final(T),)


def test_an_older_state_never_replaces_a_newer_one_and_a_repeat_is_no_change() -> None:
    trail = CandleTrail()
    trail.accept(forming(T + MINUTE_MS), closed=False)
    assert trail.accept(forming(T), closed=False) is False
    assert trail.accept(forming(T + MINUTE_MS), closed=False) is False
    assert trail.in_progress == forming(T + MINUTE_MS)
    assert trail.oldest == T + MINUTE_MS


def test_the_trail_keeps_at_most_depth_closed_candles_and_one_in_progress() -> None:
    trail = CandleTrail(depth=100)
    for i in range(500):
        trail.accept(forming(T + i * MINUTE_MS), closed=False)
        trail.accept(final(T + i * MINUTE_MS), closed=True)
    trail.accept(forming(T + 500 * MINUTE_MS), closed=False)
    assert len(trail) == 101
    assert trail.closed[0] == final(T + 400 * MINUTE_MS)
    assert trail.oldest == T + 400 * MINUTE_MS


def test_fetched_candles_are_final_only_when_their_interval_had_ended() -> None:
    history = (final(T - MINUTE_MS), forming(T))
    window = fetched_window(history, T + 30_000, MINUTE_MS)
    assert window.candles == ((final(T - MINUTE_MS), True), (forming(T), False))
    assert window.fetched == 2


def test_joined_with_a_fetch_made_after_the_trail_began() -> None:
    trail = CandleTrail()
    trail.accept(final(T), closed=True)
    trail.accept(forming(T + MINUTE_MS), closed=False)
    # Fetched 10 s into the trail's first candle: the candles before it are final.
    history = tuple(final(T - i * MINUTE_MS) for i in range(5, 0, -1)) + (forming(T),)
    window = joined_window(history, T + 10_000, MINUTE_MS, trail, limit=4)
    assert window.complete is True
    assert window.candles == (
        (final(T - 2 * MINUTE_MS), True),
        (final(T - MINUTE_MS), True),
        (final(T), True),
        (forming(T + MINUTE_MS), False),
    )
    assert window.fetched == 2
    assert window.source("binance", "binance") == "binance"
    assert window.source("binance", "kraken") == "binance+kraken"


def test_a_fetch_older_than_the_trail_leaves_a_hole_rather_than_unfinished_values() -> None:
    trail = CandleTrail()
    trail.accept(forming(T + 2 * MINUTE_MS), closed=False)
    history = (final(T - MINUTE_MS), forming(T))  # fetched 30 s into T: T was not final
    window = joined_window(history, T + 30_000, MINUTE_MS, trail, limit=100)
    assert window.complete is False
    assert window.candles == ((final(T - MINUTE_MS), True), (forming(T + 2 * MINUTE_MS), False))
    assert window.source("binance", "kraken") == "binance+kraken"


def test_an_empty_trail_leaves_the_fetched_window_as_it_is() -> None:
    history = tuple(final(T - i * MINUTE_MS) for i in range(3, 0, -1)) + (forming(T),)
    window = joined_window(history, T + 5_000, MINUTE_MS, CandleTrail(), limit=2)
    assert window.candles == ((final(T - MINUTE_MS), True), (forming(T), False))
    assert window.source("binance", None) == "binance"
