"""The fan-out's telemetry as Prometheus exposes it: subscribers, dropped slow subscribers,
fan-out lag and updates delivered, under the names the README lists."""

from __future__ import annotations

import asyncio

from adapters.metrics import PrometheusMetrics
from application.live.fanout import LiveFanout
from tests.unit.fanout_world import OPEN_MS, candle_event, forming, live_world


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exposed")


async def test_subscribers_drops_lag_and_deliveries_are_exposed() -> None:
    w = live_world(queue_limit=1)
    metrics = PrometheusMetrics()
    feed = LiveFanout(w.bus, w.interest, w.report, w.get_ohlcv, w.get_prices, w.symbols, w.intervals,
                      w.clock, telemetry=metrics, queue_limit=1, first_event_wait=0.05, state=w.feed.state)  # fmt: skip
    fast, slow = feed.inbox(), feed.inbox()
    task = asyncio.ensure_future(feed.watch_candles(fast, "BTC", "1m"))
    await asyncio.sleep(0)
    feed.apply(candle_event(OPEN_MS, False))
    await task
    await feed.watch_candles(slow, "BTC", "1m")
    text = metrics.exposition().decode()
    assert sample(text, "cde_stream_subscribers") == 2

    w.clock.advance(0.25)  # the clock now reads 30.25 s after OPEN_MS; the event says OPEN_MS + 30 s
    feed.apply(candle_event(OPEN_MS, True, event_time=OPEN_MS + 30_000))
    await fast.get()
    feed.apply(
        candle_event(OPEN_MS + 60_000, False, candle=forming(OPEN_MS + 60_000), event_time=OPEN_MS + 30_250)
    )
    text = metrics.exposition().decode()
    assert sample(text, "cde_stream_slow_subscribers_dropped_total") == 1
    assert sample(text, "cde_stream_subscribers") == 1
    assert sample(text, 'cde_stream_updates_delivered_total{channel="candles"}') == 1
    assert sample(text, 'cde_stream_fanout_lag_seconds_count{channel="candles"}') == 2
    assert sample(text, 'cde_stream_fanout_lag_seconds_sum{channel="candles"}') == 0.25
