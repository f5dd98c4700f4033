"""``crypto-data-engine backfill``: fill the candle store ahead of time.

It builds the service's own container from the same settings, so it walks ranges through the
same candle store, providers, circuits and cool-downs as the service, with its own share of
each upstream budget (``--budget-share``): our budgets are counted per process, while the
exchange counts per IP address, so a backfill beside a running server must leave it room.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import signal
import sys
from typing import Any

from limits import parse as parse_rate

from application.history.backfill import Backfill
from domain.errors import InvalidInput
from entrypoints.backfill_output import BarProgress, LineProgress, summary
from entrypoints.container import build_container, stop
from entrypoints.registry.providers import PROVIDERS
from entrypoints.settings import Settings

#: The share of each UPSTREAM_BUDGET_* a backfill spends by default: half, so a server on the
#: same IP address keeps the other half (the exchange counts both against one limit).
DEFAULT_BUDGET_SHARE = 0.5
#: Exit codes: every market completed; some not (see the summary); bad input; interrupted.
EXIT_DONE, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_backfill_parser(commands: Any) -> argparse.ArgumentParser:
    """The ``backfill`` subcommand and its options."""
    backfill: argparse.ArgumentParser = commands.add_parser(
        "backfill", help="fill the candle store ahead of time (resumable: run it again to go on)"
    )
    backfill.add_argument("--symbols", required=True, help="comma list of markets, e.g. BTC,ETH")
    backfill.add_argument("--intervals", required=True, help="comma list of intervals, e.g. 1h,1d")
    backfill.add_argument("--since", required=True, help="epoch ms or ISO 8601 UTC, e.g. 2024-01-01")
    backfill.add_argument(
        "--until", help="epoch ms or ISO 8601 UTC, exclusive (default: now, up to the candle in progress)"
    )
    backfill.add_argument(
        "--budget-share", type=float, default=DEFAULT_BUDGET_SHARE, metavar="SHARE",
        help="share of each UPSTREAM_BUDGET_* this process may spend, in (0, 1] "
             f"(default: {DEFAULT_BUDGET_SHARE}: a server on the same IP keeps the rest)",
    )  # fmt: skip
    return backfill


def budget_share(rate: str, share: float, cost: int = 1) -> str:
    """``rate`` (``4800/minute``) cut to ``share`` of it, never below one call's ``cost``."""
    item = parse_rate(rate)
    return f"{max(cost, int(item.amount * share))}/{item.multiples} {item.GRANULARITY.name}"


def with_budget_share(settings: Settings, share: float) -> Settings:
    """``settings`` with every provider's UPSTREAM_BUDGET_* cut to ``share``."""
    return settings.model_copy(update={
        entry.budget_setting: budget_share(getattr(settings, entry.budget_setting), share, entry.cost)
        for entry in PROVIDERS
    })  # fmt: skip


def backfill_overrides() -> dict[str, object]:
    """What a backfill process sets apart from the environment: no live streams, and only
    warnings logged unless LOG_LEVEL says otherwise (the progress is shown instead)."""
    return {"stream_enabled": False, "log_level": None if "LOG_LEVEL" in os.environ else "WARNING"}


async def run_backfill(settings: Settings, args: argparse.Namespace) -> int:
    """Run the backfill ``args`` ask for; the exit code."""
    container = build_container(settings)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    stopping = asyncio.Event()

    async def sleep(seconds: float) -> None:  # a wait Ctrl-C ends at once
        try:
            await asyncio.wait_for(stopping.wait(), seconds)
        except TimeoutError:
            pass

    try:
        backfill = Backfill(
            container.application.symbols(), container.application.intervals(),
            await _resolved(container.application.candle_history()), await _resolved(container.upstreams.calls()),
            container.shared.clock(), sleep,
        )  # fmt: skip
        try:
            jobs = backfill.plan(args.symbols, args.intervals, args.since, args.until)
        except InvalidInput as error:
            print(f"crypto-data-engine backfill: error: {error.message}", file=sys.stderr)
            return EXIT_USAGE

        def interrupt() -> None:
            if backfill.stopping and main is not None:
                main.cancel()  # a second Ctrl-C: now, mid-page (each page is one transaction)
                return
            backfill.stop()
            stopping.set()
            print(
                "stopping after the current page (Ctrl-C again to stop at once)", file=sys.stderr, flush=True
            )

        loop.add_signal_handler(signal.SIGINT, interrupt)
        progress = BarProgress() if sys.stderr.isatty() else LineProgress()
        try:
            with progress:
                report = await backfill.run(jobs, progress)
        except asyncio.CancelledError:
            print("interrupted: run the same command again to resume (what was stored is kept)", flush=True)
            return EXIT_INTERRUPTED
        print("\n".join(summary(report)), flush=True)
        if report.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_INCOMPLETE if report.incomplete else EXIT_DONE
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await stop(container)


async def _resolved(value: Any) -> Any:
    """A provider's value, awaited when an async resource (the candle store) is in its graph."""
    return await value if inspect.isawaitable(value) else value
