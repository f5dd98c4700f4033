"""What ``crypto-data-engine backfill`` shows: a progress bar per market (rich) on a terminal,
a line per page otherwise, and the summary at the end."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from application.history.backfill_report import BackfillReport, MarketReport
from domain.candle_span import CandleSpan

#: Gaps listed per market in the summary (the count says how many there are in all).
GAPS_LISTED = 5


class BarProgress:
    """``BackfillProgress`` as rich progress bars on stderr: open times walked out of those
    expected, one bar per market and interval."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._bars = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=Console(file=stream),
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def started(self, report: MarketReport) -> None:
        """A new bar."""
        self._tasks[report.job.name] = self._bars.add_task(
            report.job.name, total=report.job.expected, note=""
        )

    def advanced(self, report: MarketReport) -> None:
        """The bar moves on."""
        self._bars.update(
            self._tasks[report.job.name], completed=report.done, note=f"{report.candles} candles"
        )

    def waiting(self, report: MarketReport, seconds: float, why: str) -> None:
        """The bar says it waits."""
        self._bars.update(self._tasks[report.job.name], note=f"waiting {seconds:g} s ({why})")

    def finished(self, report: MarketReport) -> None:
        """The bar says how it ended."""
        note = f"{report.candles} candles" + ("" if report.complete else f" - not completed: {report.reason}")
        self._bars.update(self._tasks[report.job.name], completed=report.done, note=note)


class LineProgress:
    """``BackfillProgress`` as one line per page on ``stream`` (stderr when not a terminal)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _say(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def started(self, report: MarketReport) -> None:
        """The market begins."""
        self._say(f"{report.job.name}: {report.job.expected} open times from {_when(report.job.start_ms)} "
                  f"to {_when(report.job.end_ms)}")  # fmt: skip

    def advanced(self, report: MarketReport) -> None:
        """One page walked."""
        self._say(f"{report.job.name}: page: {report.done}/{report.job.expected} open times, "
                  f"{report.candles} candles")  # fmt: skip

    def waiting(self, report: MarketReport, seconds: float, why: str) -> None:
        """A wait the providers asked for."""
        self._say(f"{report.job.name}: waiting {seconds:g} s: {why}")

    def finished(self, report: MarketReport) -> None:
        """The market ended."""
        end = "done" if report.complete else f"not completed: {report.reason}"
        self._say(f"{report.job.name}: {end}")


def summary(report: BackfillReport) -> list[str]:
    """The lines that end a backfill: per market, then the totals, then what is left undone."""
    lines = []
    for market in report.markets:
        gaps = ", ".join(_span(g) for g in market.gaps[:GAPS_LISTED])
        more = f" and {len(market.gaps) - GAPS_LISTED} more" if len(market.gaps) > GAPS_LISTED else ""
        source = f" from {market.source}" if market.source else ""
        lines.append(
            f"  {market.job.name}: {market.candles} candles{source}, {_count(len(market.gaps), 'gap')}"
            + (f": {gaps}{more}" if market.gaps else "")
        )
    lines.append(
        f"candles stored: {report.candles}; gaps found: {_count(report.gaps, 'span')}; "
        f"upstream calls: {report.upstream_calls}"
    )
    if report.incomplete:
        lines.append("not completed:")
        lines.extend(f"  {m.job.name}: {m.reason}" for m in report.incomplete)
    if report.interrupted:
        lines.append("interrupted: run the same command again to resume (what was stored is kept)")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _span(span: CandleSpan) -> str:
    return f"[{_when(span.start_ms)}, {_when(span.end_ms)})"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
