"""Candle periods and how their open times line up on the UTC clock."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE = 60
HOUR = 3_600
DAY = 86_400
WEEK = 7 * DAY
#: 1970-01-05 00:00 UTC, the first Monday after the Unix epoch (a Thursday).
FIRST_MONDAY = 4 * DAY


@dataclass(frozen=True)
class Timeframe:
    """A candle period.

    Fixed periods are ``seconds`` long and open at ``anchor + k * seconds`` (Binance weeks
    are anchored on a Monday, Kraken weeks on the epoch). With ``months`` set, bars follow
    the calendar and ``seconds`` is only the nominal length that identifies the period.
    Times are Unix seconds.
    """

    seconds: int
    anchor: int = 0
    months: int = 0

    def floor(self, t: float) -> int:
        """Open time of the bar that contains ``t``."""
        if self.months:
            index = _month_index(t)
            return _month_start(index - index % self.months)
        steps = math.floor((t - self.anchor) / self.seconds)
        return self.anchor + steps * self.seconds

    def ceil(self, t: float) -> int:
        """Open time of the first bar opening at or after ``t``."""
        start = self.floor(t)
        return start if start == t else self.shift(start, 1)

    def shift(self, open_time: int, bars: int) -> int:
        """Open time ``bars`` periods after (or before, if negative) ``open_time``."""
        if self.months:
            return _month_start(_month_index(open_time) + bars * self.months)
        return open_time + bars * self.seconds


def _month_index(t: float) -> int:
    moment = datetime.fromtimestamp(t, tz=UTC)
    return moment.year * 12 + moment.month - 1


def _month_start(index: int) -> int:
    year, month = divmod(index, 12)
    return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp())
