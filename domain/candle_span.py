"""Spans of candle open times: what a candle store holds and what range planning works with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.candle_resampling import monday_week_start
from domain.interval import Interval


@dataclass(frozen=True, slots=True, order=True)
class CandleSpan:
    """The open times ``start_ms <= t < end_ms`` (epoch ms), half-open like the API's ranges.

    In a candle store, a *covered* span is one whose candles were all fetched from the exchange:
    every candle it had there is stored, and an open time with no stored candle inside it is a
    gap the exchange really has (known empty), not something still to fetch.
    """

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if self.end_ms < self.start_ms:
            raise ValueError(f"a span ends before it starts: [{self.start_ms}, {self.end_ms})")

    @property
    def empty(self) -> bool:
        """True when no open time lies in it."""
        return self.end_ms == self.start_ms

    def clipped(self, start_ms: int, end_ms: int) -> CandleSpan | None:
        """Its part inside ``[start_ms, end_ms)``, or None when they share no open time."""
        start, end = max(self.start_ms, start_ms), min(self.end_ms, end_ms)
        return CandleSpan(start, end) if start < end else None


def merge_spans(spans: Iterable[CandleSpan]) -> tuple[CandleSpan, ...]:
    """The union of ``spans`` as disjoint spans, oldest first; touching spans become one and
    empty ones vanish."""
    merged: list[CandleSpan] = []
    for span in sorted(s for s in spans if not s.empty):
        if merged and span.start_ms <= merged[-1].end_ms:
            if span.end_ms > merged[-1].end_ms:
                merged[-1] = CandleSpan(merged[-1].start_ms, span.end_ms)
        else:
            merged.append(span)
    return tuple(merged)


def open_time_in_progress(interval: Interval, now_ms: int) -> int:
    """The open time of the candle in progress at ``now_ms`` (weeks open on Monday 00:00 UTC,
    the other intervals on multiples of their length since the epoch)."""
    if interval.name == "1w":
        return monday_week_start(now_ms)
    return now_ms // interval.milliseconds * interval.milliseconds


def is_closed(timestamp_ms: int, interval: Interval, now_ms: int) -> bool:
    """Whether the candle opening at ``timestamp_ms`` has closed at ``now_ms`` (it is final)."""
    return timestamp_ms + interval.milliseconds <= now_ms


def closed_part(span: CandleSpan, interval: Interval, now_ms: int) -> CandleSpan | None:
    """The part of ``span`` whose candles have all closed at ``now_ms`` (the candle in progress
    and later ones cut off), or None when nothing of it has closed."""
    return span.clipped(span.start_ms, open_time_in_progress(interval, now_ms))
