"""Failover end to end: while Binance refuses every handshake the service streams from Kraken,
and moves back to Binance when it recovers; health shows the states, updates name their
source, and no closed candle is repeated or skipped across the switches."""

from __future__ import annotations

from typing import Any

import aiohttp

from simulator import UpstreamSimulator
from tests.e2e.live_chain_support import (
    MINUTE_MS,
    T0_MS,
    StartChain,
    WallClock,
    candle_updates,
    chain_sim,  # noqa: F401 - fixture
    eventually,
    get_json,
    start_chain,  # noqa: F401 - fixture
    subscribe_candles,
    upstream_holds,
    wall,  # noqa: F401 - fixture
)


async def states(url: str) -> dict[str, str]:
    health = await get_json(url)
    return {s["provider"]: s["state"] for s in health["streams"]}


def closes(updates: list[dict[str, Any]]) -> list[int]:
    return [c["timestamp"] for u in updates for c in u["data"] if c["closed"]]


async def test_failover_to_kraken_and_back(start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock) -> None:
    service = await start_chain(stream_providers=["binance", "kraken"])
    health = service.url("/api/health")
    seen: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        snapshot = await subscribe_candles(ws)
        assert snapshot["source"] == "binance"
        await upstream_holds(chain_sim, "binance", "btcusdt@kline_1m")

        # Binance goes away for good: three failed attempts, then Kraken.
        await chain_sim.streams.fault("binance", "refuse")
        await chain_sim.streams.fault("binance", "drop")

        async def on_kraken() -> bool:
            return await states(health) == {"binance": "down", "kraken": "connected"}

        await eventually(on_kraken)
        await upstream_holds(chain_sim, "kraken", "ohlc:BTC/USD:1")
        wall.advance(60)  # T0 closes while Kraken serves
        await chain_sim.streams.push("kraken")
        seen += await candle_updates(ws, lambda got: T0_MS + MINUTE_MS in [c["timestamp"] for u in got for c in u["data"]])
        assert {u["source"] for u in seen if u["data"][-1]["timestamp"] > T0_MS} == {"kraken"}

        # Binance is back: the streams move back to it.
        chain_sim.streams.clear_faults("binance")

        async def back_on_binance() -> bool:
            return (await states(health))["binance"] == "connected"

        await eventually(back_on_binance)
        await upstream_holds(chain_sim, "binance", "btcusdt@kline_1m")
        await eventually(lambda: chain_sim.streams.log.subscriptions("kraken") == [], timeout=8)
        wall.advance(60)  # T0 + 1 closes on Binance
        await chain_sim.streams.push()
        later = await candle_updates(ws, lambda got: T0_MS + 2 * MINUTE_MS in [c["timestamp"] for u in got for c in u["data"]])
        assert {u["source"] for u in later} == {"binance"}
        seen += later
    assert closes(seen) == [T0_MS, T0_MS + MINUTE_MS]
