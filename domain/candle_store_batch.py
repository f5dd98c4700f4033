"""What one write to a candle store may hold: closed candles only, one per open time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.candle import Candle
from domain.candle_span import CandleSpan, closed_part, is_closed
from domain.interval import Interval

#: How long after its close a fetched candle is taken as final, counted from when it was asked
#: for: an exchange whose clock is a little behind ours may still be updating it.
SETTLE_MS = 2000


@dataclass(frozen=True, slots=True)
class CandleStoreBatch:
    """Candles to upsert, oldest first, and the span they cover, both cut to what has closed.

    Built with :meth:`of`, the one place that decides what a store may keep, so every adapter
    keeps the same: the candle in progress (and any later one) is dropped, never stored as
    final; two candles with one open time become the later of them (a database refuses one
    statement that writes a row twice, and must not lose the batch for it).
    """

    candles: tuple[Candle, ...]
    covering: CandleSpan | None

    @classmethod
    def of(
        cls, candles: Iterable[Candle], interval: Interval, now_ms: int, covering: CandleSpan | None = None
    ) -> CandleStoreBatch:
        """The storable part of ``candles`` and of ``covering`` at ``now_ms``.

        Candles outside ``covering`` (when given) are kept too: a span only adds knowledge.
        """
        by_time = {c.timestamp: c for c in candles if is_closed(c.timestamp, interval, now_ms)}
        span = closed_part(covering, interval, now_ms) if covering is not None else None
        return cls(tuple(by_time[t] for t in sorted(by_time)), span)
