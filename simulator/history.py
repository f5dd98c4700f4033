"""Which candles of one exchange exist at all: outage gaps and each market's listing time.

An exchange has no candle for an interval in which nothing traded (Binance skips such
intervals; it also has real outages). ``History`` records spans declared as outages, in Unix
milliseconds ``[start, end)``, and per market the listing time before which nothing exists.
A bar is absent when it opens before the bar that contains the listing, or when one outage
covers all of its traded time, ``[open, close)`` (for the bar in progress ``[open, now)``):
a bar that an outage only partly covers had trades, so it exists. REST answers and the
WebSocket streams ask the same question, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from .timeframes import Timeframe


class History:
    """Outage spans and listing times of one exchange (times in Unix ms at the edges)."""

    def __init__(self, default_listing_s: int) -> None:
        self.default_listing_s = default_listing_s
        self._outages: list[tuple[int, int]] = []  # merged, disjoint, sorted
        self._listings: dict[str, float] = {}

    # -- declarations ------------------------------------------------------------------

    def add_outage(self, start_ms: int, end_ms: int) -> None:
        """No trades (so no candle wholly inside) in ``[start_ms, end_ms)``."""
        for name, value in (("start", start_ms), ("end", end_ms)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"outage {name} must be a non-negative integer of ms, got {value!r}")
        if end_ms <= start_ms:
            raise ValueError(f"outage end ({end_ms}) must be after its start ({start_ms})")
        spans = sorted([*self._outages, (start_ms, end_ms)])
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._outages = merged

    def outages(self) -> list[tuple[int, int]]:
        """The outage spans, merged and oldest first."""
        return list(self._outages)

    def set_listing(self, market: str, listed_ms: int) -> None:
        """``market`` (the exchange's own key) has no candle before the one containing
        ``listed_ms``."""
        if isinstance(listed_ms, bool) or not isinstance(listed_ms, int) or listed_ms < 0:
            raise ValueError(f"listing time must be a non-negative integer of ms, got {listed_ms!r}")
        self._listings[market] = listed_ms / 1000

    def listings(self) -> dict[str, int]:
        """Listing time (ms) per market set explicitly."""
        return {market: int(round(seconds * 1000)) for market, seconds in self._listings.items()}

    def clear(self) -> None:
        """No outages, default listing times."""
        self._outages = []
        self._listings = {}

    # -- questions ---------------------------------------------------------------------

    def first_open(self, market: str, timeframe: Timeframe) -> int:
        """Open time of the market's first bar (the one that contains its listing)."""
        return timeframe.floor(self._listings.get(market, self.default_listing_s))

    def _outage_over(self, open_time: int, timeframe: Timeframe, now: float) -> tuple[int, int] | None:
        traded_until = min(timeframe.shift(open_time, 1), now) * 1000
        for start, end in self._outages:
            if start <= open_time * 1000 and traded_until <= end:
                return start, end
        return None

    def exists(self, market: str, timeframe: Timeframe, open_time: int, now: float) -> bool:
        """Whether the bar opening at ``open_time`` exists (listed, not wholly in an outage)."""
        if open_time < self.first_open(market, timeframe) or open_time > timeframe.floor(now):
            return False
        return self._outage_over(open_time, timeframe, now) is None

    def forward(self, market: str, timeframe: Timeframe, first: int, last: int, now: float) -> Iterator[int]:
        """Open times of the existing bars from ``first`` to ``last`` (bar opens, inclusive),
        oldest first, jumping over outages without stepping through them."""
        t = max(first, self.first_open(market, timeframe))
        while t <= last:
            span = self._outage_over(t, timeframe, now)
            if span is None:
                yield t
                t = timeframe.shift(t, 1)
            else:  # the bar containing the outage's end is the first one it cannot cover
                t = max(timeframe.shift(t, 1), timeframe.floor(span[1] / 1000))

    def backward(self, market: str, timeframe: Timeframe, last: int, now: float) -> Iterator[int]:
        """Open times of the existing bars from ``last`` back to the listing, newest first."""
        first = self.first_open(market, timeframe)
        t = last
        while t >= first:
            span = self._outage_over(t, timeframe, now)
            if span is None:
                yield t
                t = timeframe.shift(t, -1)
            else:  # the bar before the outage's start is the last one it cannot cover
                t = min(timeframe.shift(t, -1), timeframe.floor((span[0] - 1) / 1000))
