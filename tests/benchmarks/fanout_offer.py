"""Micro-benchmark of the live fan-out in one process, without sockets:
``python -m tests.benchmarks.fanout_offer [--events N] [--subscribers 1,100,1000]``.

For each subscriber count: the cost of ``apply`` (one candle event offered to every inbox:
one update object, one dictionary write per inbox), the time until every subscriber's reader
task has taken the update (the event loop's part of delivery lag, before any socket), and the
memory one idle subscriber (inbox and watch) holds. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
from dataclasses import dataclass

from domain.candle import Candle
from tests.unit.fanout_world import OPEN_MS, candle_event, forming, live_world


@dataclass(frozen=True)
class Figures:
    """What one subscriber count measured."""

    subscribers: int
    apply_us_p50: float
    apply_us_per_subscriber: float
    delivered_ms_p50: float
    delivered_ms_p99: float
    bytes_per_idle_subscriber: int


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(subscribers: int, events: int) -> Figures:
    """Offer ``events`` candle changes to ``subscribers`` inboxes that read them at once."""
    world = live_world(queue_limit=1024, first_event_wait=1.0)
    feed = world.feed
    inboxes = [feed.inbox()]
    first = asyncio.ensure_future(feed.watch_candles(inboxes[0], "BTC", "1m"))
    await asyncio.sleep(0)
    feed.apply(candle_event(OPEN_MS, False, candle=forming(OPEN_MS)))
    await first
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(subscribers - 1):  # what one more idle subscriber costs: inbox, watch, snapshot
        inboxes.append(feed.inbox())
        await feed.watch_candles(inboxes[-1], "BTC", "1m")
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    per_idle = grown // (subscribers - 1) if subscribers > 1 else 0

    remaining = 0
    done = asyncio.Event()

    async def read(inbox: object) -> None:
        nonlocal remaining
        while True:
            await inbox.get()  # type: ignore[attr-defined]
            remaining -= 1
            if remaining == 0:
                done.set()

    readers = [asyncio.ensure_future(read(inbox)) for inbox in inboxes]
    await asyncio.sleep(0)
    applied: list[float] = []
    delivered: list[float] = []
    for i in range(events):
        remaining = subscribers
        done.clear()
        event = candle_event(OPEN_MS, False, candle=Candle(OPEN_MS, 100.0, 110.0, 90.0, 100.0 + i, float(i)))
        started = time.perf_counter()
        feed.apply(event)
        offered = time.perf_counter()
        await done.wait()
        applied.append(offered - started)
        delivered.append(time.perf_counter() - started)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    feed.close()
    apply_p50 = statistics.median(applied) * 1e6
    return Figures(
        subscribers,
        round(apply_p50, 1),
        round(apply_p50 / subscribers, 3),
        round(statistics.median(delivered) * 1e3, 3),
        round(_percentile(delivered, 0.99) * 1e3, 3),
        per_idle,
    )


def main(argv: list[str] | None = None) -> list[Figures]:
    """Run and print the figures for each subscriber count."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.fanout_offer", description=__doc__)
    parser.add_argument("--events", type=int, default=500, help="candle changes per subscriber count")
    parser.add_argument("--subscribers", default="1,100,1000", help="comma list of subscriber counts")
    options = parser.parse_args(argv)
    results = []
    print(
        "subscribers | apply p50 µs | µs per subscriber | all delivered p50 ms | p99 ms | bytes per idle subscriber"
    )
    for count in (int(n) for n in options.subscribers.split(",")):
        figures = asyncio.run(measure(count, options.events))
        results.append(figures)
        print(
            f"{figures.subscribers} | {figures.apply_us_p50} | {figures.apply_us_per_subscriber} | "
            f"{figures.delivered_ms_p50} | {figures.delivered_ms_p99} | {figures.bytes_per_idle_subscriber}"
        )
    return results


if __name__ == "__main__":
    main()
