"""Upstream faults end to end: the simulator's Binance stream drops, refuses, goes silent or
sends malformed frames; the service recovers by itself, its `/ws` client keeps receiving,
health counts the reconnects, and a disconnect across a candle close delivers that candle
exactly once with its final values (no gap, no repeat)."""

from __future__ import annotations

from typing import Any

import aiohttp

from simulator import UpstreamSimulator
from tests.e2e.live_chain_support import (
    MINUTE_MS,
    T0_MS,
    ChainService,
    StartChain,
    WallClock,
    candle_updates,
    chain_sim,  # noqa: F401 - fixture
    eventually,
    sim_candle,
    start_chain,  # noqa: F401 - fixture
    stream_health,
    subscribe_candles,
    upstream_holds,
    wall,  # noqa: F401 - fixture
)

KLINE = "btcusdt@kline_1m"


async def moves_on(ws: aiohttp.ClientWebSocketResponse, sim: UpstreamSimulator, wall: WallClock, price: float) -> dict[str, Any]:
    """Move the price and the clock, push, and return the update the client gets."""
    wall.advance(1)
    sim.set_price("BTC", price)
    await sim.streams.push("binance")
    (update,) = await candle_updates(ws, lambda got: len(got) == 1)
    assert update["data"][0]["close"] == price
    assert update["data"][0]["timestamp"] == wall.minute_ms
    return update


async def reconnected(service: ChainService, sim: UpstreamSimulator, reconnects: int) -> None:
    """Health says connected again after ``reconnects`` reconnections, and the simulator holds
    the stream on one connection."""
    async def healthy() -> bool:
        entry = await stream_health(service)
        return entry["state"] == "connected" and entry["reconnects"] == reconnects and entry["streams"] == 1

    await eventually(healthy)
    await upstream_holds(sim, "binance", KLINE)
    assert sim.streams.log.open_count("binance") == 1


async def watching(service: ChainService, http: aiohttp.ClientSession, sim: UpstreamSimulator,
                   wall: WallClock) -> aiohttp.ClientWebSocketResponse:  # fmt: skip
    ws = await http.ws_connect(service.ws_url)
    await subscribe_candles(ws)
    await upstream_holds(sim, "binance", KLINE)
    await moves_on(ws, sim, wall, 70_000.0)
    return ws


async def test_a_drop_across_a_candle_close_delivers_that_candle_once_with_its_final_values(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http:
        ws = await watching(service, http, chain_sim, wall)
        assert await chain_sim.streams.fault("binance", "drop") == 1
        wall.advance(45)  # the T0 candle closes while the connection is down
        await reconnected(service, chain_sim, reconnects=1)
        await chain_sim.streams.push("binance")  # the new connection: only the candle in progress
        updates = await candle_updates(ws, lambda got: any(u["data"][-1]["timestamp"] > T0_MS for u in got))
        candles = [c for u in updates for c in u["data"]]
        final = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS, closed=True)
        forming = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS + MINUTE_MS, closed=False)
        assert candles == [final, forming]
        # And on: the next close comes once too.
        await moves_on(ws, chain_sim, wall, 70_100.0)
        wall.advance(60)
        await chain_sim.streams.push("binance")
        updates = await candle_updates(ws, lambda got: len(got) == 2)
        assert [u["data"][0]["timestamp"] for u in updates] == [T0_MS + MINUTE_MS, T0_MS + 2 * MINUTE_MS]
        assert [u["data"][0]["closed"] for u in updates] == [True, False]
        await ws.close()


async def test_refused_handshakes_then_recovery(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http:
        ws = await watching(service, http, chain_sim, wall)
        await chain_sim.streams.fault("binance", "refuse", times=2)
        await chain_sim.streams.fault("binance", "drop")
        await eventually(lambda: len(chain_sim.streams.log.refusals("binance")) == 2)
        await reconnected(service, chain_sim, reconnects=1)
        await moves_on(ws, chain_sim, wall, 70_200.0)
        await ws.close()


async def test_a_silent_connection_is_replaced(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http:
        ws = await watching(service, http, chain_sim, wall)
        assert await chain_sim.streams.fault("binance", "silence") == 1
        await reconnected(service, chain_sim, reconnects=1)
        assert chain_sim.streams.log.opened_count("binance") == 2
        await moves_on(ws, chain_sim, wall, 70_300.0)
        await ws.close()


async def test_malformed_frames_are_skipped_without_a_reconnect(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http:
        ws = await watching(service, http, chain_sim, wall)
        await chain_sim.streams.fault("binance", "malformed", shape="truncated", count=2)
        await chain_sim.streams.fault("binance", "malformed", shape="wrong_shape", count=2)
        await moves_on(ws, chain_sim, wall, 70_400.0)
        entry = await stream_health(service)
        assert (entry["state"], entry["reconnects"]) == ("connected", 0)
        assert chain_sim.streams.log.opened_count("binance") == 1
        await ws.close()
