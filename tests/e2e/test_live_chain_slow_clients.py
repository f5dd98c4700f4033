"""Slow clients over the real chain: a `/ws` client that never reads (its socket's reading
paused) does not slow a client that reads; the fast one gets every update promptly, the slow
one is closed with 1013 and a reason, and the fan-out keeps no more than the queue limit for it."""

from __future__ import annotations

import asyncio
import time

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
    receive,
    send,
    start_chain,  # noqa: F401 - fixture
    upstream_holds,
    wall,  # noqa: F401 - fixture
)

SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOT", "LINK", "LTC", "BCH", "MATIC", "AVAX", "XLM", "TRX")
#: Above the 28 updates a minute's close makes for 14 markets (a client that reads is never
#: dropped for a burst), far below what a client that never reads piles up.
LIMIT = 64


async def subscribed(ws: aiohttp.ClientWebSocketResponse) -> None:
    for index, symbol in enumerate(SYMBOLS):
        await send(ws, {"op": "subscribe", "channel": "candles", "symbol": symbol, "interval": "1m", "id": index})
        assert (await receive(ws, 10))["type"] == "subscribed"
        assert (await receive(ws, 10))["type"] == "snapshot"


async def test_a_client_that_never_reads_is_dropped_and_slows_nobody(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain(stream_queue_limit=LIMIT, ws_max_messages_per_second=100)
    feed = await service.container.application.live_feed()
    async with aiohttp.ClientSession() as http:
        fast, slow = await http.ws_connect(service.ws_url), await http.ws_connect(service.ws_url)
        await subscribed(fast)
        await subscribed(slow)
        await upstream_holds(chain_sim, "binance", *(f"{s.lower() if s != 'MATIC' else 'pol'}usdt@kline_1m" for s in SYMBOLS))
        assert feed.subscribers == 2
        slow_transport = slow._response.connection.transport  # type: ignore[union-attr]
        assert slow_transport is not None
        slow_transport.pause_reading()  # from here on the slow client reads nothing at all

        closes: list[int] = []
        for minute in range(1, 2000):
            wall.advance(60)
            pushed_at = time.monotonic()
            await chain_sim.streams.push("binance")
            updates = await candle_updates(fast, lambda got: len(got) == 2 * len(SYMBOLS), timeout=5)
            assert time.monotonic() - pushed_at < 1.0  # promptly, whatever the slow one does
            btc = [u for u in updates if u["symbol"] == "BTCUSDT"]
            assert [(u["data"][0]["timestamp"], u["data"][0]["closed"]) for u in btc] == [
                (T0_MS + (minute - 1) * MINUTE_MS, True),
                (T0_MS + minute * MINUTE_MS, False),
            ]
            closes.append(btc[0]["data"][0]["timestamp"])
            if feed.subscribers == 1:
                break
        assert feed.subscribers == 1, "the slow client was never dropped"
        assert closes == [T0_MS + m * MINUTE_MS for m in range(len(closes))]
        slow_transport.resume_reading()
        code, reason = None, ""
        async with asyncio.timeout(10):
            while True:
                message = await slow.receive()
                if message.type is aiohttp.WSMsgType.CLOSE:
                    code, reason = message.data, message.extra
                    break
                if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        assert code == 1013
        assert reason == f"too slow: more than {LIMIT} updates waiting"
        await eventually(lambda: feed.subscribers == 1)
        await fast.close()
