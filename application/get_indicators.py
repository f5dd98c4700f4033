"""Use case: technical indicators over a market's candles, with their warm-up."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence

from application.get_ohlcv import DEFAULT_INTERVAL, GetOhlcv
from application.history.get_ohlcv_range import GetOhlcvRange
from application.served import Served
from domain.candle import MAX_CANDLES, Candle, CandleSeries, check_limit
from domain.candle_span import open_time_in_progress
from domain.errors import InvalidParameter
from domain.indicator_table import IndicatorRow, IndicatorTable, IndicatorValue
from domain.indicators import IndicatorSpec, parse_indicators, resolve, warmup
from domain.interval import Interval, IntervalParser
from domain.ports import Clock, IndicatorEngine
from domain.symbol import Symbol, SymbolParser
from domain.time_range import MAX_RANGE_CANDLES, TimeRange

_MEMO_SIZE = 256  # request texts whose checked indicators are kept
#: Values (rows x outputs) the kept tables may hold in all, least recently used out first:
#: ~100 bytes each as Python objects, so some 50 MB, a few dozen tables of 1000 rows.
_MEMO_CELLS = 500_000
# A history range asked for a warm-up is this much longer than the candles it needs, so a few
# hours the exchange has no candle for still leave enough.
_RANGE_SLACK = 1.1


class GetIndicators:
    """``/api/indicators``: the requested indicators at each of the newest ``limit`` candles.

    Each is computed by ``engine`` over ``limit + warmup`` candles, ``warmup`` being the most any
    of them needs before its first value (``domain.indicators.warmup``), so every row has its
    values and a client computing over the same candles of ``/api/ohlcv`` gets the same
    numbers. Up to 1000 candles come from ``/api/ohlcv``'s window (cached, live while a stream
    is open: the newest row follows the live candle); more from the history ranges. A table is
    kept per market, interval, indicators and window, and computed again only when the candles
    it came from change.
    """

    def __init__(
        self,
        symbols: SymbolParser,
        intervals: IntervalParser,
        engine: IndicatorEngine,
        candles: GetOhlcv,
        ranges: GetOhlcvRange,
        clock: Clock,
        memo_cells: int = _MEMO_CELLS,
    ) -> None:
        self._symbols = symbols
        self._intervals = intervals
        self._engine = engine
        self._candles = candles
        self._ranges = ranges
        self._clock = clock
        self._memo: OrderedDict[Hashable, tuple[Hashable, IndicatorTable]] = OrderedDict()
        self._plans: OrderedDict[str, tuple[tuple[IndicatorSpec, ...], int]] = OrderedDict()
        self._memo_cells = 0  # values held by the kept tables
        self._memo_limit = memo_cells

    def function_names(self) -> tuple[str, ...]:
        """The functions the engine offers, as a client writes them (lower case), sorted: for
        the API's documentation."""
        return tuple(sorted(name.lower() for name in self._engine.functions()))

    def plan(
        self, symbol: str | None, interval: str | None, limit: int, indicators: str | None
    ) -> tuple[Symbol, Interval, tuple[IndicatorSpec, ...], int]:
        """The market, interval, checked indicators and warm-up asked for, or ``InvalidInput``
        (before any upstream call)."""
        market = self._symbols.parse(symbol)
        bar = self._intervals.parse(interval or DEFAULT_INTERVAL)
        rows = check_limit(limit)
        specs, needed = self._checked(indicators)
        if rows + needed > MAX_RANGE_CANDLES:
            raise InvalidParameter(
                f"these indicators need {needed} candles of warm-up before {rows} rows: at most "
                f"{MAX_RANGE_CANDLES} candles in all",
                field="indicators",
            )
        self._candles.check(market, bar)
        return market, bar, specs, needed

    def _checked(self, indicators: str | None) -> tuple[tuple[IndicatorSpec, ...], int]:
        """The indicators of ``indicators`` checked by the engine, and their warm-up; kept per
        text, since checking asks TA-Lib (a request repeated every second need not)."""
        known = self._plans.get(indicators or "")
        if known is not None:
            self._plans.move_to_end(indicators or "")
            return known
        functions = self._engine.functions()
        specs = tuple(resolve(request, functions) for request in parse_indicators(indicators))
        checked = specs, max(warmup(spec, self._engine.lookback(spec)) for spec in specs)
        self._plans[indicators or ""] = checked
        if len(self._plans) > _MEMO_SIZE:
            self._plans.popitem(last=False)
        return checked

    async def execute(
        self, symbol: str | None, interval: str | None, limit: int, indicators: str | None
    ) -> Served[IndicatorTable]:
        """Validate the request and serve its rows."""
        market, bar, specs, needed = self.plan(symbol, interval, limit, indicators)
        served = await self._window(market, bar, limit + needed)
        candles = served.value.candles
        if len(candles) < limit + needed:
            raise InvalidParameter(
                f"{market.pair} {bar.name} has {len(candles)} candles; these indicators need {needed} "
                f"before the {limit} rows asked for",
                field="limit",
            )
        key = (market.pair, bar.name, tuple((s.key, s.values) for s in specs), limit)
        version = (served.fetched_at, served.live_version, len(candles), candles[-1])
        known = self._memo.get(key)
        if known is not None and known[0] == version:
            self._memo.move_to_end(key)
            table = known[1]
        else:
            if known is not None:
                self._memo_cells -= _cells(known[1])
            table = self._table(served.value, specs, candles[-(limit + needed):], needed)
            self._memo[key] = (version, table)
            self._memo_cells += _cells(table)
            while self._memo_cells > self._memo_limit and len(self._memo) > 1:
                self._memo_cells -= _cells(self._memo.popitem(last=False)[1][1])
        # Named by the window it was computed from and what was computed, so an edge may keep the
        # answer's encoding until the candles change (None from a history range: never kept).
        return served.narrowed(table, ("indicators", key[2], limit))

    async def _window(self, market: Symbol, bar: Interval, count: int) -> Served[CandleSeries]:
        if count <= MAX_CANDLES:
            return await self._candles.execute(market.pair, bar.name, count)
        now_ms = int(self._clock.now() * 1000)
        back = min(int((count - 1) * _RANGE_SLACK), MAX_RANGE_CANDLES - 1)  # one page, to now
        start = open_time_in_progress(bar, now_ms) - back * bar.milliseconds
        served = await self._ranges.serve(market, bar, TimeRange(max(start, 0), None), MAX_RANGE_CANDLES)
        return Served(served.value.series, served.stale, served.fetched_at, live=served.live,
                      live_version=served.live_version)  # fmt: skip

    def _table(
        self, series: CandleSeries, specs: Sequence[IndicatorSpec], candles: Sequence[Candle], needed: int
    ) -> IndicatorTable:
        columns: dict[str, IndicatorValueColumn] = {}
        for spec in specs:
            outputs = self._engine.compute(spec, candles)
            columns[spec.key] = outputs
        rows = tuple(
            IndicatorRow(candles[i].timestamp, {key: _value(outputs, i) for key, outputs in columns.items()})
            for i in range(needed, len(candles))
        )
        return IndicatorTable(series.symbol, series.interval, rows, needed, series.source)


IndicatorValueColumn = dict[str, list[float | None]]


def _value(outputs: IndicatorValueColumn, i: int) -> IndicatorValue:
    if len(outputs) == 1:
        return next(iter(outputs.values()))[i]
    return {name: values[i] for name, values in outputs.items()}


def _cells(table: IndicatorTable) -> int:
    """The values ``table`` holds (an output of a multi-output indicator counts one)."""
    if not table.rows:
        return 0
    per_row = sum(len(v) if isinstance(v, dict) else 1 for v in table.rows[0].values.values())
    return len(table.rows) * (per_row + 1)
