"""Live indicators: the newest row of ``GetIndicators`` following a market's live candles.

A subscription watches the market's candles into the client's inbox (so it shares the candles
topic, the upstream stream and the mailbox's conflation with every other watcher of that
market) and, whenever the edge delivers one of those candle updates, asks ``GetIndicators``
for the newest row again (``limit=1``). ``GetIndicators`` joins the live candle into the window
and keeps one table per candle version, so a thousand subscribers of the same indicators cost
one computation per candle change; the update made from a table is kept too, so they share
its encoding as well. A slow subscriber's mailbox conflates candle updates, and the row made
when one is delivered is the newest there is: it gets the latest row, never a backlog.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from application.live.feed import Inbox, LiveFeed, Watch
from application.live.updates import CandleUpdate, UpdateType
from application.served import Served
from domain.indicator_table import IndicatorTable
from domain.indicators import IndicatorSpec
from domain.interval import Interval
from domain.ports import Clock
from domain.symbol import Symbol

#: Rows in a subscription's snapshot: the newest (the one the updates then follow). More are
#: for GET /api/indicators.
SNAPSHOT_ROWS = 1
_SHARED_UPDATES = 256  # updates kept for sharing (one per market, interval and indicators)


class IndicatorRows(Protocol):
    """What is asked of ``application.get_indicators.GetIndicators`` (named by its methods, as
    that module reaches the live package through GET /api/ohlcv's live candles)."""

    def plan(self, symbol: str | None, interval: str | None, limit: int, indicators: str | None
             ) -> tuple[Symbol, Interval, tuple[IndicatorSpec, ...], int]:  # fmt: skip
        """The checked request, or ``InvalidInput`` (no I/O)."""
        ...

    async def execute(self, symbol: str | None, interval: str | None, limit: int, indicators: str | None
                      ) -> Served[IndicatorTable]:  # fmt: skip
        """The newest ``limit`` rows."""
        ...


@dataclass(frozen=True, eq=False)
class IndicatorUpdate:
    """The newest indicators row of one market and interval (``table`` holds that one row).

    ``indicators`` is the request as the client wrote it; ``live`` says the row's candle is the
    live one; ``event_time`` is the exchange's event time of the candle change that made it
    (None in a snapshot); ``timestamp`` when the service made it (epoch ms). ``rendered`` keeps
    an edge's encoding, shared by every subscriber of the same update.
    """

    type: UpdateType
    indicators: str
    table: IndicatorTable
    live: bool
    event_time: int | None
    timestamp: int
    rendered: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


class IndicatorWatch:
    """One client's indicators of one market and interval: the ``snapshot``, then ``next``
    for each candle update of that market the edge delivers."""

    __slots__ = ("_candles", "_last", "_source", "indicators", "interval", "snapshot", "symbol")

    def __init__(self, source: LiveIndicators, candles: Watch, symbol: Symbol, interval: Interval,
                 indicators: str, snapshot: IndicatorUpdate) -> None:  # fmt: skip
        self._source = source
        self._candles = candles
        self.symbol = symbol
        self.interval = interval
        self.indicators = indicators
        self.snapshot = snapshot
        self._last = snapshot.table

    async def next(self, update: CandleUpdate) -> IndicatorUpdate | None:
        """The newest row after ``update``, or None when it is the row this watch gave last
        (an update the snapshot already included)."""
        row = await self._source.row("update", self.symbol, self.interval, self.indicators, update.event_time)
        if row.table is self._last:
            return None
        self._last = row.table
        return row

    def stop(self) -> None:
        """Stop the candles watch (idempotent)."""
        self._candles.stop()


class LiveIndicators:
    """Indicator subscriptions over the live feed (see the module's docstring)."""

    def __init__(self, feed: LiveFeed, indicators: IndicatorRows, clock: Clock) -> None:
        self._feed = feed
        self._indicators = indicators
        self._clock = clock
        self._shared: OrderedDict[tuple[str, str, str], IndicatorUpdate] = OrderedDict()

    def check(self, symbol: str | None, interval: str | None, indicators: str | None) -> tuple[Symbol, Interval]:
        """The market and interval of a subscription, its indicators checked (``InvalidInput``,
        no I/O)."""
        market, bar, _, _ = self._indicators.plan(symbol, interval, SNAPSHOT_ROWS, indicators)
        return market, bar

    async def watch(self, inbox: Inbox, symbol: str | None, interval: str | None, indicators: str) -> IndicatorWatch:
        """Check the request before anything else, watch the market's candles into ``inbox``
        and start from the newest row. Raises what ``GetIndicators`` and
        ``LiveFeed.watch_candles`` raise."""
        market, bar = self.check(symbol, interval, indicators)
        candles = await self._feed.watch_candles(inbox, market.pair, bar.name)
        try:
            snapshot = await self.row("snapshot", market, bar, indicators, None)
        except BaseException:
            candles.stop()
            raise
        return IndicatorWatch(self, candles, market, bar, indicators, snapshot)

    async def row(self, kind: UpdateType, market: Symbol, bar: Interval, indicators: str,
                  event_time: int | None) -> IndicatorUpdate:  # fmt: skip
        """The newest row as a ``kind`` message; an update made from a table another
        subscriber already had is that subscriber's update object."""
        served = await self._indicators.execute(market.pair, bar.name, SNAPSHOT_ROWS, indicators)
        table = served.value
        if kind == "snapshot":  # one subscriber's own (not shared, as candle snapshots)
            return IndicatorUpdate(kind, indicators, table, served.live, event_time, self._now_ms())
        key = (market.pair, bar.name, indicators)
        known = self._shared.get(key)
        if known is not None and known.table is table:
            self._shared.move_to_end(key)
            return known
        update = IndicatorUpdate(kind, indicators, table, served.live, event_time, self._now_ms())
        self._shared[key] = update
        self._shared.move_to_end(key)
        if len(self._shared) > _SHARED_UPDATES:
            self._shared.popitem(last=False)
        return update

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)
