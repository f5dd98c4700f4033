"""What a backfill reports: per market as it goes (``BackfillProgress``) and at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.candle_span import CandleSpan
from domain.interval import Interval
from domain.range_plan import first_open_time
from domain.symbol import Symbol


@dataclass(frozen=True, slots=True)
class BackfillJob:
    """The closed candles of one market and interval to fill: open times in ``[start_ms, end_ms)``."""

    market: Symbol
    interval: Interval
    start_ms: int
    end_ms: int

    @property
    def name(self) -> str:
        """``BTCUSDT 1h``."""
        return f"{self.market.pair} {self.interval.name}"

    @property
    def expected(self) -> int:
        """The open times of the range: the candles it holds when the exchange has no gap."""
        return self.open_times_before(self.end_ms)

    def open_times_before(self, at_ms: int) -> int:
        """The open times of the range before ``at_ms``."""
        first = first_open_time(self.interval, self.start_ms)
        step = self.interval.milliseconds
        return max(0, -(-(min(at_ms, self.end_ms) - first) // step))


@dataclass(slots=True)
class MarketReport:
    """How far one job went: candles now stored for it, the gaps the exchange has in it,
    ``reason`` when it could not be completed (None: complete)."""

    job: BackfillJob
    done: int = 0  # open times walked
    candles: int = 0
    gaps: list[CandleSpan] = field(default_factory=list)
    source: str = ""
    reason: str | None = None

    @property
    def complete(self) -> bool:
        """Whether the whole range was walked and every provider page of it was complete."""
        return self.reason is None and self.done >= self.job.expected


@dataclass(slots=True)
class BackfillReport:
    """The end of a backfill: every job's report, the upstream calls it made, and whether it
    was interrupted (then the jobs not reached are absent or incomplete)."""

    markets: list[MarketReport]
    upstream_calls: int = 0
    interrupted: bool = False

    @property
    def candles(self) -> int:
        """Candles of every job, now in the store."""
        return sum(m.candles for m in self.markets)

    @property
    def gaps(self) -> int:
        """Gaps found (spans with no candle), over every job."""
        return sum(len(m.gaps) for m in self.markets)

    @property
    def incomplete(self) -> list[MarketReport]:
        """The jobs that could not be completed."""
        return [m for m in self.markets if not m.complete]


class BackfillProgress(Protocol):
    """Where a backfill says how it goes (the command renders it as progress bars)."""

    def started(self, report: MarketReport) -> None:
        """A job begins (``report.job.expected`` open times to walk)."""
        ...

    def advanced(self, report: MarketReport) -> None:
        """A page of the job was walked (``report.done`` open times, ``report.candles``)."""
        ...

    def waiting(self, report: MarketReport, seconds: float, why: str) -> None:
        """The providers asked to wait ``seconds`` before the next page."""
        ...

    def finished(self, report: MarketReport) -> None:
        """The job ended: completed, or not (``report.reason``)."""
        ...


class NoProgress:
    """A ``BackfillProgress`` that shows nothing."""

    def started(self, report: MarketReport) -> None:
        """Nothing shown."""

    def advanced(self, report: MarketReport) -> None:
        """Nothing shown."""

    def waiting(self, report: MarketReport, seconds: float, why: str) -> None:
        """Nothing shown."""

    def finished(self, report: MarketReport) -> None:
        """Nothing shown."""
