"""Joining candles fetched over REST with the trail a live stream delivered since.

A window answered from the cache was fetched at some moment; its newest candle was forming
then. The live trail holds what the stream delivered from some later open time on. Joined,
they give the recent candles with final values, as long as the fetch happened no earlier than
the trail's oldest candle opened: every candle before that one had closed by then, so the
fetched values of those are final, and nothing between the two can be missing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from domain.candle import Candle
from domain.candle_trail import CandleTrail


@dataclass(frozen=True, slots=True)
class LiveWindow:
    """Recent candles, oldest first, each with whether it is final.

    ``complete`` is False when the fetched part was older than the trail: the candles just
    before the trail are then left out rather than served with values that were not final
    (a hole, never a made-up or unfinished candle).
    """

    candles: tuple[tuple[Candle, bool], ...]
    complete: bool
    #: How many of the oldest candles came from the fetch (the rest from the trail).
    fetched: int

    def source(self, fetched_source: str, trail_source: str | None) -> str:
        """Who the candles came from: one provider, or ``fetched+trail`` when both gave some."""
        if trail_source is None or self.fetched == len(self.candles):
            return fetched_source
        if self.fetched == 0 or trail_source == fetched_source:
            return trail_source
        return f"{fetched_source}+{trail_source}"


def fetched_window(history: Sequence[Candle], fetched_at_ms: int, interval_ms: int) -> LiveWindow:
    """A fetched window alone: a candle is final when its interval had ended at the fetch."""
    candles = tuple((c, c.timestamp + interval_ms <= fetched_at_ms) for c in history)
    return LiveWindow(candles, True, len(candles))


def joined_window(
    history: Sequence[Candle], fetched_at_ms: int, interval_ms: int, trail: CandleTrail, limit: int
) -> LiveWindow:
    """The newest ``limit`` candles of ``history`` (fetched at ``fetched_at_ms``) joined with
    ``trail``: fetched candles before the trail's oldest that were final when fetched, then the
    trail's closed candles, then its candle in progress."""
    oldest = trail.oldest
    if oldest is None:
        return fetched_window(history[-limit:], fetched_at_ms, interval_ms)
    live = tuple((c, True) for c in trail.closed)
    if trail.in_progress is not None:
        live += ((trail.in_progress, False),)
    # Fetched candles that opened before the trail and had closed when fetched (history is
    # oldest first: two cuts by open time, not a walk through a thousand candles).
    cut = bisect_left(history, min(oldest, fetched_at_ms - interval_ms + 1), key=_open_time)
    wanted = max(0, limit - len(live))
    before = tuple((c, True) for c in history[max(0, cut - wanted) : cut]) if wanted else ()
    kept = (before + live)[-limit:]
    return LiveWindow(kept, fetched_at_ms >= oldest, max(0, len(kept) - len(live)))


def _open_time(candle: Candle) -> int:
    return candle.timestamp
