"""Use case: fill the candle store ahead of time (``crypto-data-engine backfill``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from application.history.backfill_report import (
    BackfillJob,
    BackfillProgress,
    BackfillReport,
    MarketReport,
    NoProgress,
)
from application.history.candle_history import CandleHistory
from domain.candle_span import merge_spans, open_time_in_progress
from domain.client_input import quoted
from domain.errors import AllProvidersFailed, InvalidParameter, InvalidSymbol
from domain.interval import IntervalParser
from domain.ports import Clock
from domain.provider_health import ProviderHealth
from domain.symbol import SymbolParser
from domain.time_range import MAX_RANGE_CANDLES, parse_instant

#: Refusals in a row (no page walked in between) after which a job is given up.
MAX_STALLS = 8
#: Seconds waited after a failure that said nothing of when to retry (a timeout, a 500).
RETRY_WAIT = 5.0
#: The shortest wait: a budget that says "now" at the very edge of its window is asked again
#: a moment later, not in a tight loop.
MIN_WAIT = 1.0

T = TypeVar("T")


class CallCounts(Protocol):
    """The provider-call gate's record of calls (``ProviderCalls``)."""

    async def health(self) -> list[ProviderHealth]:
        """Each provider's health, with the calls made to it."""
        ...


class Backfill:
    """Walks each market and interval from ``since`` to ``until`` a page at a time through
    ``history`` (the same store, providers, budgets and circuits as the service), so every
    closed candle of the range ends up stored, and a span stored already costs nothing.

    Polite: when the providers refuse (our budget spent, a cool-down, an open circuit, a rate
    limit), it waits as long as they say, through ``sleep``, and goes on; it gives a job up
    after ``max_stalls`` refusals in a row. Resumable: ``stop()`` ends it between pages, and
    what was stored is covered, so running it again walks the rest without upstream calls for
    what is done.
    """

    def __init__(
        self,
        symbols: SymbolParser,
        intervals: IntervalParser,
        history: CandleHistory,
        calls: CallCounts,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]],
        *,
        page_limit: int = MAX_RANGE_CANDLES,
        max_stalls: int = MAX_STALLS,
        retry_wait: float = RETRY_WAIT,
        min_wait: float = MIN_WAIT,
    ) -> None:
        self._symbols = symbols
        self._intervals = intervals
        self._history = history
        self._calls = calls
        self._clock = clock
        self._sleep = sleep
        self._page_limit = page_limit
        self._max_stalls = max_stalls
        self._retry_wait = retry_wait
        self._min_wait = min_wait
        self._stopping = False

    def plan(
        self, symbols: str, intervals: str, since: str, until: str | None = None
    ) -> tuple[BackfillJob, ...]:
        """The jobs ``--symbols``, ``--intervals``, ``--since`` and ``--until`` name (closed
        candles only: no further than the candle in progress), or ``InvalidInput`` before any
        call."""
        markets = _unique(self._symbols.parse(raw) for raw in _items(symbols, "--symbols"))
        bars = _unique(self._intervals.parse(raw) for raw in _items(intervals, "--intervals"))
        now_ms = int(self._clock.now() * 1000)
        start = parse_instant(since, "--since")
        if start > now_ms:
            raise InvalidParameter(f"--since is in the future: {quoted(since)}", field="--since")
        end = None if until is None or not until.strip() else parse_instant(until, "--until")
        if end is not None and start >= end:
            raise InvalidParameter(f"--since must be before --until, got {start} and {end}", field="--since")
        jobs = []
        for market in markets:
            for bar in bars:
                if not self._history.serves(market, bar):
                    raise InvalidSymbol(f"no configured provider answers ranges of {market.pair} {bar.name}",
                                        field="--symbols")  # fmt: skip
                closed_end = open_time_in_progress(bar, now_ms)
                jobs.append(
                    BackfillJob(market, bar, start, closed_end if end is None else min(end, closed_end))
                )
        return tuple(jobs)

    def stop(self) -> None:
        """End the backfill before its next page (Ctrl-C)."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stopping

    async def run(
        self, jobs: Sequence[BackfillJob], progress: BackfillProgress | None = None
    ) -> BackfillReport:
        """Walk every job in turn; the report says what was stored, found and left undone."""
        shown = progress or NoProgress()
        calls_before = await self._calls_made()
        report = BackfillReport([])
        for job in jobs:
            if self._stopping:
                break
            market = MarketReport(job)
            report.markets.append(market)
            shown.started(market)
            await self._walk(market, shown)
            market.gaps = list(merge_spans(market.gaps))
            shown.finished(market)
        report.interrupted = self._stopping
        report.upstream_calls = await self._calls_made() - calls_before
        return report

    async def _walk(self, report: MarketReport, progress: BackfillProgress) -> None:
        job = report.job
        cursor, stalls = job.start_ms, 0
        while cursor < job.end_ms and not self._stopping:
            try:
                # The first provider's candles only: while it refuses (budget, cool-down), wait
                # for it rather than store the next provider's (Kraken's 720 bars) in its stead.
                page = await self._history.page(
                    job.market, job.interval, cursor, job.end_ms, self._page_limit, fallback=False
                )
            except AllProvidersFailed as error:
                stalls += 1
                if error.rejected_only or stalls >= self._max_stalls:
                    report.reason = str(error)
                    return
                wait = max(
                    error.retry_after if error.retry_after is not None else self._retry_wait, self._min_wait
                )
                progress.waiting(report, wait, str(error))
                await self._sleep(wait)
                continue
            stalls = 0
            series = page.series
            report.candles += len(series.candles)
            report.gaps.extend(page.gaps)
            report.source = series.source or report.source
            if not page.complete and report.reason is None:
                report.reason = (f"{series.source or 'the provider'} cannot reach all of it: "
                                 "the gaps include what it could not reach")  # fmt: skip
            cursor = page.next_ms if page.next_ms is not None else job.end_ms
            report.done = job.open_times_before(cursor)
            progress.advanced(report)
        if cursor < job.end_ms and report.reason is None:
            report.reason = "interrupted"

    async def _calls_made(self) -> int:
        return sum(record.calls for record in await self._calls.health())


def _items(raw: str, option: str) -> list[str]:
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise InvalidParameter(f"{option} names nothing", field=option)
    return items


def _unique(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))
