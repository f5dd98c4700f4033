"""Use case: a whole candle range, page after page, for streaming out (CSV, NDJSON)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from application.history.get_ohlcv_range import GetOhlcvRange
from application.served import Served
from domain.candle_page import CandlePage
from domain.errors import AllProvidersFailed
from domain.interval import Interval
from domain.symbol import Symbol
from domain.time_range import MAX_RANGE_CANDLES, TimeRange


@dataclass(frozen=True, slots=True)
class CandleExport:
    """A checked export request and its first page, fetched before anything is sent, so a
    range that cannot be had at all is an error answer rather than an empty file."""

    market: Symbol
    interval: Interval
    first: Served[CandlePage]
    ranges: GetOhlcvRange
    span: TimeRange

    async def pages(self) -> AsyncIterator[CandlePage]:
        """Every page of the range, oldest first; memory holds one page at a time. A provider
        failing after the first page raises its error here (the stream is cut short), as does
        a page that is not whole: a file has no place to say that candles may be missing."""
        page = self.first.value
        source = page.series.source
        yield page
        while page.next_ms is not None:
            span = TimeRange(page.next_ms, self.span.end_ms)
            page = whole((await self.ranges.serve(self.market, self.interval, span, MAX_RANGE_CANDLES)).value)
            if source and page.series.source and page.series.source != source:
                raise AllProvidersFailed(
                    {source: f"failed part way; {page.series.source} answered the rest, not mixed into one file"}
                )
            source = source or page.series.source
            yield page


class ExportCandles:
    """``/api/ohlcv/export``: the whole of ``[start, end)`` with no page cap, fetched page by
    page (10000 candles each) as it is written out, missing spans fetched as it goes. The file
    holds every candle the exchange has in the range, from one provider, or the export fails
    (``AllProvidersFailed``): before the first byte when it can be told then, else by cutting
    the stream short."""

    def __init__(self, ranges: GetOhlcvRange) -> None:
        self._ranges = ranges

    async def open(
        self, symbol: str | None, interval: str | None, start: str | None, end: str | None
    ) -> CandleExport:
        """Check the request and fetch its first page (``InvalidInput`` / ``AllProvidersFailed``
        before anything is streamed)."""
        market, bar, span, _ = self._ranges.parse(symbol, interval, start, end, None)
        first = await self._ranges.serve(market, bar, span, MAX_RANGE_CANDLES)
        whole(first.value)
        return CandleExport(market, bar, first, self._ranges, span)


def whole(page: CandlePage) -> CandlePage:
    """``page`` when it is complete, else ``AllProvidersFailed`` naming what could not be had."""
    if page.complete:
        return page
    shown = [f"[{g.start_ms}, {g.end_ms})" for g in page.gaps[:3]]
    more = len(page.gaps) - len(shown)
    missing = ", ".join(shown) + (f" and {more} more" if more else "")
    provider = page.series.source or "the providers"
    raise AllProvidersFailed({provider: f"cannot give every candle of the range; missing or out of reach: {missing}"})
