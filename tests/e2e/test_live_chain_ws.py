"""The WebSocket edge over the real chain: what the simulator's Binance stream pushes reaches a
`/ws` client with the simulator's own numbers, closes come once, and REST and health agree."""

from __future__ import annotations

import aiohttp

from tests.e2e.live_chain_support import (
    MINUTE_MS,
    T0_MS,
    ChainService,
    StartChain,
    WallClock,
    candle_of,
    candle_updates,
    chain_sim,  # noqa: F401 - fixture
    eventually,
    get_json,
    rest_klines,
    sim_candle,
    start_chain,  # noqa: F401 - fixture
    stream_health,
    subscribe_candles,
    wall,  # noqa: F401 - fixture
)
from simulator import UpstreamSimulator



async def test_snapshot_and_updates_carry_the_simulators_candles(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        snapshot = await subscribe_candles(ws)
        rows = await rest_klines(chain_sim, "BTCUSDT", "1m", T0_MS - 99 * MINUTE_MS, 100)
        assert snapshot["symbol"] == "BTCUSDT" and snapshot["interval"] == "1m"
        assert snapshot["source"] == "binance"
        assert snapshot["data"] == [candle_of(row, closed=row[0] != T0_MS) for row in rows]

        wall.advance(5)
        chain_sim.set_price("BTC", 70_123.0)
        assert await chain_sim.streams.push("binance") == 1
        (update,) = await candle_updates(ws, lambda got: len(got) == 1)
        assert update["data"] == [await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS, closed=False)]
        assert update["data"][0]["close"] == 70_123.0
        assert update["eventTime"] == int(wall.wall * 1000)
        assert update["source"] == "binance"

        wall.advance(30)  # 5 s into the next minute
        assert await chain_sim.streams.push("binance") == 2
        updates = await candle_updates(ws, lambda got: len(got) == 2)
        final = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS, closed=True)
        forming = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS + MINUTE_MS, closed=False)
        assert [u["data"] for u in updates] == [[final], [forming]]
        assert all(u["eventTime"] == int(wall.wall * 1000) for u in updates)


async def test_rest_ohlcv_is_live_while_watched_and_health_counts_the_stream(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    before = await get_json(service.url("/api/ohlcv?symbol=BTC&interval=1m&limit=3"))
    assert before["live"] is False
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await subscribe_candles(ws)
        wall.advance(5)
        chain_sim.set_price("BTC", 71_000.5)
        await chain_sim.streams.push("binance")
        await candle_updates(ws, lambda got: len(got) == 1)
        answer = await get_json(service.url("/api/ohlcv?symbol=BTC&interval=1m&limit=3"))
        assert answer["live"] is True
        newest = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS, closed=False)
        assert answer["data"][-1] == {k: v for k, v in newest.items() if k != "closed"}
        health = await stream_health(service)
        assert health["state"] == "connected"
        assert health["streams"] == 1
        assert health["reconnects"] == 0
        assert health["lastMessage"] is not None
    # Nobody watches: not live any more.
    await eventually(lambda: _not_live(service))


async def _not_live(service: ChainService) -> bool:
    answer = await get_json(service.url("/api/ohlcv?symbol=BTC&interval=1m&limit=3"))
    return answer["live"] is False
