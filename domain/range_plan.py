"""Range planning: the open times a range holds and the gaps in what was found."""

from __future__ import annotations

from collections.abc import Iterable

from domain.candle_resampling import monday_week_start
from domain.candle_span import CandleSpan
from domain.interval import Interval


def first_open_time(interval: Interval, at_ms: int) -> int:
    """The first candle open time at or after ``at_ms`` (weeks open on Monday 00:00 UTC, the
    other intervals on multiples of their length since the epoch)."""
    step = interval.milliseconds
    floor = monday_week_start(at_ms) if interval.name == "1w" else at_ms // step * step
    return floor if floor == at_ms else floor + step


def gaps(open_times: Iterable[int], span: CandleSpan, interval: Interval) -> tuple[CandleSpan, ...]:
    """The runs of open times in ``span`` with no candle, given the ``open_times`` found there
    (oldest first), as half-open spans: from the first missing open time to where candles
    resume (or the span's end)."""
    step = interval.milliseconds
    expected = first_open_time(interval, span.start_ms)
    found: list[CandleSpan] = []
    for at in open_times:
        if at < expected:
            continue  # not on the grid, or a repeat: nothing is missing before it
        if at > expected:
            found.append(CandleSpan(expected, at))
        expected = at + step
    if expected < span.end_ms:
        found.append(CandleSpan(expected, span.end_ms))
    return tuple(found)
