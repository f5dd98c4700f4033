"""The upstream side's telemetry as Prometheus exposes it: events the exchanges' streams
delivered (by provider and channel) and connections lost (each followed by a reconnect)."""

from __future__ import annotations

from adapters.metrics import PrometheusMetrics
from tests.fake_streams import candle_event, ticker_event
from tests.unit.live_world import CANDLES, TICKER, live_world
from tests.unit.test_live_metrics import sample


async def test_upstream_messages_and_disconnects_are_counted_per_provider() -> None:
    metrics = PrometheusMetrics()
    world = await live_world(telemetry=metrics)
    try:
        world.interest.watch(CANDLES)
        world.interest.watch(TICKER)
        await world.tick()
        world.binance.go_live()
        world.binance.send(candle_event(0, False), candle_event(0, False, close=101.0), ticker_event(50.0))
        world.binance.drop()
        world.binance.drop(failures=1)
        text = metrics.exposition().decode()
    finally:
        await world.supervisor.stop()

    assert sample(text, 'cde_stream_upstream_messages_total{channel="candles",provider="binance"}') == 2
    assert sample(text, 'cde_stream_upstream_messages_total{channel="ticker",provider="binance"}') == 1
    assert sample(text, 'cde_stream_upstream_disconnects_total{provider="binance"}') == 2
