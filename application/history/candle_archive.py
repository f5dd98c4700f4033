"""Feeding the candle store with the closed candles the service gets anyway: the newest window
``/api/ohlcv`` fetched, and the closed candles the live streams delivered."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from domain.candle import Candle, CandleSeries
from domain.candle_span import CandleSpan, open_time_in_progress
from domain.candle_store_batch import SETTLE_MS, CandleStoreBatch
from domain.interval import Interval
from domain.ports import CandleStore, Clock
from domain.range_plan import first_open_time
from domain.symbol import Symbol

log = logging.getLogger("history.archive")

#: A window's newest candle whose interval ended less than this long before it was asked for
#: may still have been in progress at the exchange (clocks differ by a little): not final.
SETTLE_SECONDS = SETTLE_MS / 1000


class CandleArchive:
    """Puts closed candles into the store as their provider's, with the span they cover, so a
    range over them later costs no upstream call.

    Best effort: a store failure is logged and swallowed, never raised, since the caller (a
    ``/api/ohlcv`` request, the live feed) has its answer whatever the store does.
    """

    def __init__(self, store: CandleStore, clock: Clock, settle: float = SETTLE_SECONDS) -> None:
        self._store = store
        self._clock = clock
        self._settle_ms = int(settle * 1000)

    def now_ms(self) -> int:
        """The time now (epoch ms): read it just before asking for a window, for ``keep_window``."""
        return int(self._clock.now() * 1000)

    async def keep_window(self, series: CandleSeries, asked_ms: int) -> None:
        """Store the closed candles of a provider's newest window (``series``, asked for at
        ``asked_ms``) as covering ``[its first candle, the candle in progress)``: the window
        is all the exchange had in that span. The candle in progress is never stored, nor the
        newest one while it may still have been in progress at the exchange."""
        candles = series.candles
        if not candles:
            return
        interval = series.interval
        closed_before = open_time_in_progress(interval, asked_ms)
        newest = candles[-1].timestamp
        if newest + interval.milliseconds > asked_ms - self._settle_ms:
            closed_before = min(closed_before, newest)
        first = candles[0].timestamp
        if closed_before <= first:
            return
        closed = [c for c in candles if c.timestamp < closed_before]
        await self._upsert(series.source, series.symbol, interval, closed, CandleSpan(first, closed_before))

    async def keep_closed(
        self, provider: str, symbol: Symbol, interval: Interval, candles: Sequence[Candle]
    ) -> None:
        """Store closed candles a live stream delivered, each covering its own interval (one
        upsert per run of consecutive candles: the store merges touching spans). A candle off
        the interval's grid (a week not opening on Monday) is not ours to keep."""
        step = interval.milliseconds
        run: list[Candle] = []
        on_grid = {c.timestamp: c for c in candles if first_open_time(interval, c.timestamp) == c.timestamp}
        for candle in sorted(on_grid.values(), key=lambda c: c.timestamp):
            if run and candle.timestamp != run[-1].timestamp + step:
                await self._keep_run(provider, symbol, interval, run)
                run = []
            run.append(candle)
        if run:
            await self._keep_run(provider, symbol, interval, run)

    async def _keep_run(self, provider: str, symbol: Symbol, interval: Interval, run: list[Candle]) -> None:
        span = CandleSpan(run[0].timestamp, run[-1].timestamp + interval.milliseconds)
        await self._upsert(provider, symbol, interval, run, span)

    async def _upsert(
        self, provider: str, symbol: Symbol, interval: Interval, candles: Sequence[Candle], span: CandleSpan
    ) -> None:
        batch = CandleStoreBatch.of(candles, interval, self.now_ms(), span)
        if not batch.candles and batch.covering is None:
            return
        try:
            await self._store.upsert(provider, symbol, interval, batch.candles, batch.covering)
        except Exception as error:  # noqa: BLE001 - whichever the store adapter's errors are
            log.warning("candles of %s %s from %s not stored: %s: %s",
                        symbol.pair, interval.name, provider, type(error).__name__, error)  # fmt: skip
