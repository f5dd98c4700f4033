"""Building Monday-aligned weekly candles from daily ones.

Kraken's weekly bars follow the Unix epoch (Thursday); clients expect the exchange convention
of weeks opening Monday 00:00 UTC, as Binance serves them.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.candle import Candle

_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS
# 1970-01-01 was a Thursday; the first Monday 00:00 UTC after the epoch is 1970-01-05.
_MONDAY_OFFSET_MS = 4 * _DAY_MS


def monday_week_start(timestamp_ms: int) -> int:
    """The open time (ms) of the Monday-aligned week containing ``timestamp_ms``."""
    return (timestamp_ms - _MONDAY_OFFSET_MS) // _WEEK_MS * _WEEK_MS + _MONDAY_OFFSET_MS


def daily_to_weekly(daily: Sequence[Candle], whole_from_ms: int | None = None) -> tuple[Candle, ...]:
    """Aggregate daily candles (oldest first) into Monday-aligned weekly candles.

    A leading week whose Monday is missing from the input is dropped rather than served
    incomplete, unless the week opens at or after ``whole_from_ms``: the caller knows every
    daily bar from there was asked for, so a missing Monday is one the exchange does not have
    (an outage, a listing mid-week). The last week may be the one in progress, as with any
    exchange.
    """
    weeks: list[list[Candle]] = []
    for candle in daily:
        start = monday_week_start(candle.timestamp)
        if weeks and monday_week_start(weeks[-1][0].timestamp) == start:
            weeks[-1].append(candle)
        else:
            weeks.append([candle])
    if weeks:
        first_week = monday_week_start(weeks[0][0].timestamp)
        known_whole = whole_from_ms is not None and first_week >= whole_from_ms
        if weeks[0][0].timestamp != first_week and not known_whole:
            weeks.pop(0)
    return tuple(
        Candle(
            timestamp=monday_week_start(days[0].timestamp),
            open=days[0].open,
            high=max(d.high for d in days),
            low=min(d.low for d in days),
            close=days[-1].close,
            volume=sum(d.volume for d in days),
        )
        for days in weeks
    )
