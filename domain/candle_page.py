"""One page of a candle range as served: the candles, where the next page starts, the gaps."""

from __future__ import annotations

from dataclasses import dataclass

from domain.candle import CandleSeries
from domain.candle_span import CandleSpan


@dataclass(frozen=True, slots=True)
class CandlePage:
    """The candles of one page of ``[start, end)``, oldest first.

    ``next_ms`` is the ``start`` of the following page (None on the last one). The page's span
    is ``[start, next_ms)``, or ``[start, end)`` on the last page. ``complete`` is True when
    every candle the exchange has in that span is in ``series``; ``gaps`` are the spans of it
    with no candle (the exchange had none, or, when not ``complete``, could not be reached),
    half-open, never filled in.
    """

    series: CandleSeries
    next_ms: int | None
    complete: bool
    gaps: tuple[CandleSpan, ...]
