"""Two replicas on a real redis-server over the real chain: one upstream connection between
them, both deliver every update to their clients, and when the holder stops the other takes
over within a few seconds, with the candle that closed meanwhile delivered once."""

from __future__ import annotations

import time
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
    sim_candle,
    start_chain,  # noqa: F401 - fixture
    subscribe_candles,
    upstream_holds,
    wall,  # noqa: F401 - fixture
)

KLINE = "btcusdt@kline_1m"


async def test_one_upstream_connection_for_two_replicas_and_a_takeover(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock, redis_server: Any
) -> None:
    shared = {"cache_backend": "redis", "redis_url": redis_server.url, "stream_lease_ttl": 1.0}
    replicas = [await start_chain(**shared), await start_chain(**shared)]
    async with aiohttp.ClientSession() as http:
        clients = [await http.ws_connect(r.ws_url) for r in replicas]
        for ws in clients:
            await subscribe_candles(ws)
        await upstream_holds(chain_sim, "binance", KLINE)
        assert chain_sim.streams.log.opened_count("binance") == 1
        assert [r.supervisor.holding for r in replicas].count(True) == 1

        wall.advance(5)
        chain_sim.set_price("BTC", 69_999.5)
        await chain_sim.streams.push("binance")
        expected = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS, closed=False)
        for ws in clients:
            (update,) = await candle_updates(ws, lambda got: len(got) == 1)
            assert update["data"] == [expected]
        assert chain_sim.streams.log.opened_count("binance") == 1

        holder = next(index for index, r in enumerate(replicas) if r.supervisor.holding)
        other, ws = replicas[1 - holder], clients[1 - holder]
        stopped_at = time.monotonic()
        await replicas[holder].stop()
        wall.advance(60)  # T0 closes during the takeover
        await eventually(lambda: other.supervisor.holding, timeout=5)
        await eventually(lambda: chain_sim.streams.log.open_count("binance") == 1, timeout=5)
        await upstream_holds(chain_sim, "binance", KLINE)
        assert time.monotonic() - stopped_at < 3.0
        assert chain_sim.streams.log.opened_count("binance") == 2
        await chain_sim.streams.push("binance")
        updates = await candle_updates(ws, lambda got: T0_MS + MINUTE_MS in [c["timestamp"] for u in got for c in u["data"]])
        final = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS, closed=True)
        forming = await sim_candle(chain_sim, "BTCUSDT", "1m", T0_MS + MINUTE_MS, closed=False)
        assert [c for u in updates for c in u["data"]] == [final, forming]
        for client in clients:
            await client.close()
